"""The shared conversion pass: every format and rate in, 16 kHz mono FLAC out, resumable."""

import pytest
import soundfile as sf

from muscall.errors import DatasetError
from muscall.prepare.convert import AudioJob, convert_all
from muscall.prepare.paths import inside
from tests.helpers.audio import write_corrupt, write_tone


def _jobs(source):
    files = {
        "wav": write_tone(source / "a.wav", 1.0, 22050, channels=2),
        "mp3": write_tone(source / "deep" / "b.mp3", 1.0, 44100),
        "flac": write_tone(source / "c.flac", 0.5, 48000),
        "corrupt": write_corrupt(source / "d.wav"),
        "missing": source / "nowhere.wav",
    }
    return [AudioJob(k, p, f"audio/{k}.flac") for k, p in files.items()]


def test_converts_every_format_and_reports_bad_files(tmp_path):
    target = tmp_path / "out"
    report = convert_all(_jobs(tmp_path / "src"), target, 16000, workers=2, progress=False)
    assert sorted(report.converted) == ["flac", "mp3", "wav"]
    assert sorted(report.failed) == ["corrupt", "missing"]
    assert "d.wav" in report.failed["corrupt"]["file"]
    info = sf.info(target / "audio" / "wav.flac")
    assert (info.samplerate, info.channels, info.format) == (16000, 1, "FLAC")
    assert info.frames == 16000
    assert not list(target.rglob("*.partial"))


def test_a_second_run_only_does_what_is_missing(tmp_path):
    target = tmp_path / "out"
    jobs = _jobs(tmp_path / "src")
    convert_all(jobs, target, 16000, workers=0, progress=False)
    (target / "audio" / "mp3.flac").unlink()
    again = convert_all(jobs, target, 16000, workers=0, progress=False)
    assert again.converted == ["mp3"]
    assert sorted(again.reused) == ["flac", "wav"]


def test_paths_from_a_file_stay_inside_its_folder(tmp_path):
    (tmp_path / "ds" / "audio").mkdir(parents=True)
    assert (
        inside(tmp_path / "ds", "audio/x.wav", "f.csv row 1") == tmp_path / "ds" / "audio" / "x.wav"
    )
    for bad in ("../x.wav", "/etc/hostname", "audio/../../x.wav"):
        with pytest.raises(DatasetError, match="f.csv row 1"):
            inside(tmp_path / "ds", bad, "f.csv row 1")
    (tmp_path / "ds" / "link").symlink_to(tmp_path)
    with pytest.raises(DatasetError, match="outside"):
        inside(tmp_path / "ds", "link/x.wav", "f.csv row 1")


def test_tiny_checkpoint_fixture_is_a_file(tiny_checkpoint):
    assert tiny_checkpoint.is_file()
