"""task=prepare dataset=song_describer on a copy of the real CSV and audio layout."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import soundfile as sf

from muscall.config import compose_config
from muscall.errors import DatasetError
from muscall.prepare import song_describer
from muscall.tasks import retrieval
from tests.helpers.audio import write_corrupt, write_tone

from .conftest import check_nothing_written_outside_target, prepare_download, run_prepare

HEADER = [
    "caption_id",
    "track_id",
    "caption",
    "is_valid_subset",
    "familiarity",
    "artist_id",
    "album_id",
    "path",
    "duration",
]
TRICKY_CAPTION = 'A "retro" drum machine groove, drenched in synths;\nthen a guitar, "clean".'
NUM_TRACKS = 30
CORRUPT, MISSING, NEVER_VALID = 27, 28, 29  # track indices


def _track_id(k: int) -> str:
    return str(1051000 + 37 * k)


def _csv_path(k: int, track_id: str) -> str:
    """MTG-Jamendo's path, as the real CSV gives it; a few rows give the excerpt's own name."""
    folder = f"{int(track_id) % 100:02d}"
    if k == 3:
        return f"audio/{folder}/{track_id}.2min.mp3"
    return f"{folder}/{track_id}.2min.mp3" if k % 5 == 0 else f"{folder}/{track_id}.mp3"


def _validity(k: int, j: int) -> str:
    if k == NEVER_VALID:
        return "False"
    # Mostly valid; some rejected, some never checked (a blank cell in the CSV).
    return {3: "False", 5: ""}.get((k + 3 * j) % 11, "True")


def write_song_describer(source: Path) -> dict:
    """The CSV and `audio/NN/<id>.2min.mp3`; returns {split: {track_id: [captions]}}."""
    rows, expected = [], {"test": {}, "full": {}}
    for k in range(NUM_TRACKS):
        track_id = _track_id(k)
        folder = f"{int(track_id) % 100:02d}"
        mp3 = source / "audio" / folder / f"{track_id}.2min.mp3"
        if k == CORRUPT:
            write_corrupt(mp3)
        elif k != MISSING:
            write_tone(mp3, 1.0 + 0.5 * (k % 3), 44100 if k % 2 else 48000, 200.0 + 15 * k, 2)
        for j in range(k % 3 + 1):
            caption = TRICKY_CAPTION if (k, j) == (1, 1) else f"Track {k}, caption {j}: piano."
            valid = _validity(k, j)
            rows.append(
                [len(rows), track_id, caption, valid, j % 3, 3000 + k, 9000 + k]
                + [_csv_path(k, track_id), 215.3 + k]
            )
            if k not in (CORRUPT, MISSING):
                expected["full"].setdefault(track_id, []).append(caption)
                if valid == "True":
                    expected["test"].setdefault(track_id, []).append(caption)
    with (source / song_describer.CSV_NAME).open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    return expected


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("song_describer")
    return prepare_download(root, "song_describer", write_song_describer)


def _split(target: Path, split: str) -> dict:
    entries = json.loads((target / f"song_describer_{split}.json").read_text())
    captions = {e["audio_id"]: e["caption"] for e in entries}
    return {k: c if isinstance(c, list) else [c] for k, c in captions.items()}


def test_valid_and_full_splits_carry_every_caption_of_each_track(prepared):
    expected, target = prepared["expected"], prepared["target"]
    for split in ("test", "full"):
        assert _split(target, split) == expected[split], split
    test, full = expected["test"], expected["full"]
    assert len(test) >= 24 and sum(map(len, test.values())) > 10
    assert any(len(captions) > 1 for captions in test.values())
    assert len(full) > len(test) and _track_id(NEVER_VALID) in set(full) - set(test)
    assert prepared["report"]["splits"] == {"test": len(test), "full": len(full)}
    counts = {split: sum(map(len, expected[split].values())) for split in ("test", "full")}
    assert prepared["report"]["captions"] == counts
    assert TRICKY_CAPTION in _split(target, "full")[_track_id(1)]
    entries = json.loads((target / "song_describer_full.json").read_text())
    assert {type(e["caption"]) for e in entries} == {str, list}  # one caption: a string


def test_report_names_the_corrupt_and_the_missing_track(prepared):
    report = prepared["report"]
    assert report["missing"] == [_track_id(MISSING)]
    assert list(report["failed"]) == [_track_id(CORRUPT)]
    assert report["failed"][_track_id(CORRUPT)]["file"].endswith(".2min.mp3")
    assert report["listed"] == {"tracks": NUM_TRACKS, "captions": 60}
    assert len(report["converted"]) == NUM_TRACKS - 2 and report["reused"] == []


def test_audio_is_16k_mono_flac(prepared):
    target = prepared["target"]
    for track_id in prepared["expected"]["full"]:
        info = sf.info(target / "audio" / f"{track_id}.flac")
        assert (info.samplerate, info.channels, info.format) == (16000, 1, "FLAC")
    # Track 2: a 2 s, 48 kHz stereo mp3 (mp3 frames may pad it by a few milliseconds).
    assert abs(sf.info(target / "audio" / f"{_track_id(2)}.flac").frames - 32000) < 1200


def test_nothing_is_written_outside_the_target(prepared):
    check_nothing_written_outside_target(prepared)


def test_a_rerun_converts_only_what_is_gone(prepared, tmp_path):
    target = prepared["target"]
    (target / "audio" / f"{_track_id(4)}.flac").unlink()
    report = run_prepare(tmp_path, "song_describer", prepared["source"], target)
    assert report["converted"] == [_track_id(4)]
    assert len(report["reused"]) == NUM_TRACKS - 3
    assert report["splits"] == prepared["report"]["splits"]


@pytest.mark.parametrize("split", ["test", "full"])
def test_retrieval_on_both_splits(prepared, tiny_checkpoint, tmp_path, split):
    overrides = ["task=retrieval", "data=song_describer", f"split={split}"]
    overrides += [f"paths.data_dir={prepared['data_dir']}", f"ckpt_path={tiny_checkpoint}"]
    metrics = retrieval.run(
        compose_config([*overrides, "trainer=cpu", "data.num_workers=0"], tmp_path)
    )
    expected = prepared["expected"][split]
    assert metrics["num_tracks"] == len(expected)
    assert metrics["num_captions"] == sum(map(len, expected.values()))
    for k in (1, 5, 10):
        assert 0.0 <= metrics[f"text_to_audio_R@{k}"] <= 100.0


def test_audio_paths_in_every_published_form(tmp_path):
    real = write_tone(tmp_path / "audio" / "00" / "1051000.2min.mp3")
    for given in ("00/1051000.mp3", "00/1051000.2min.mp3", "audio/00/1051000.2min.mp3"):
        assert song_describer.audio_file(tmp_path, given, "row 2") == real
    assert song_describer.audio_file(tmp_path, "01/404.mp3", "row 2") is None
    nested = write_tone(tmp_path / "unzipped" / "audio" / "audio" / "07" / "7.2min.mp3")
    assert song_describer.audio_file(tmp_path / "unzipped", "07/7.mp3", "row 2") == nested
    for bad in ("../../etc/passwd", "/etc/passwd"):
        with pytest.raises(DatasetError, match="row 2"):
            song_describer.audio_file(tmp_path, bad, "row 2")


def test_a_csv_without_the_needed_columns_is_refused(tmp_path):
    path = tmp_path / song_describer.CSV_NAME
    path.write_text("caption_id,track_id,caption\n1,2,x\n")
    with pytest.raises(DatasetError, match="is_valid_subset, path"):
        song_describer.read_csv(path)
    path.write_text(",".join(HEADER) + "\n1,../x,a caption,True,1,2,3,00/1.mp3,2.0\n")
    with pytest.raises(DatasetError, match="row 2: track_id"):
        song_describer.read_csv(path)
