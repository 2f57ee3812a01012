"""Every kind of bad input: skipped, reported once, by file, audio_id and reason."""

import json
import os

import numpy as np
import pytest
import soundfile as sf

from muscall.audio import reading as audio_io
from muscall.audio.reading import _Decoder, check_whole_file, probe, read_clip
from muscall.data.bad_items import BadItemError, BadItemLog
from muscall.errors import AudioError, DatasetError
from tests.helpers.bad_entries import EXPECTED, assert_reported, write_bad_dataset
from tests.helpers.datasets import write_tiny_dataset

from .test_datamodule import _datamodule


@pytest.fixture(scope="module")
def bad_dataset(tmp_path_factory):
    return write_bad_dataset(tmp_path_factory.mktemp("bad") / "tiny")


@pytest.fixture(scope="module")
def one_epoch(bad_dataset, tmp_path_factory):
    """One pass over the train split, every file that was opened, and what was reported."""
    opened = []
    real_probe = audio_io.probe
    audio_io.probe = lambda path, rate: opened.append(path) or real_probe(path, rate)
    try:
        bad_items = tmp_path_factory.mktemp("run") / "bad_items.jsonl"
        dm = _datamodule(bad_dataset, batch_size=64, bad_items_path=bad_items)
        batches = [b for b in dm.train_dataloader() if b is not None]
    finally:
        audio_io.probe = real_probe
    return {"dm": dm, "batches": batches, "opened": opened, "records": dm.bad_items.read()}


@pytest.mark.parametrize("audio_id", sorted(EXPECTED))
def test_each_bad_entry_is_skipped_and_named(one_epoch, audio_id):
    assert_reported(one_epoch["records"], [audio_id])
    tracks = one_epoch["dm"].tracks("train")
    trained = {tracks[i].audio_id for b in one_epoch["batches"] for i in b["index"].tolist()}
    assert audio_id not in trained or audio_id == "clip000"  # its first entry is good


def test_a_duplicate_id_keeps_its_first_file_and_captions(one_epoch):
    first = next(t for t in one_epoch["dm"].tracks("train") if t.audio_id == "clip000")
    assert first.audio_path.name == "clip000.npy" and first.captions == ("a low tone",)


def test_good_items_all_train_and_each_bad_one_is_listed_once(one_epoch, bad_dataset):
    assert sum(len(b["index"]) for b in one_epoch["batches"]) == 8
    lines = (one_epoch["dm"].bad_items.path).read_text().splitlines()
    assert len(lines) == len(EXPECTED) == len(one_epoch["records"])
    assert all({"file", "kind", "reason", "error"} <= set(json.loads(line)) for line in lines)


def test_paths_out_of_the_folder_are_never_opened(one_epoch, bad_dataset):
    outside = (bad_dataset.parent / "outside.npy").resolve()
    assert one_epoch["opened"], "the spy saw no file"
    opened = {os.path.realpath(p) for p in one_epoch["opened"]}
    assert str(outside) not in opened and "/etc/hostname" not in opened
    root = bad_dataset.resolve()
    assert all(root in t.audio_path.parents for t in one_epoch["dm"].tracks("train"))


def test_fail_stops_at_the_first_bad_entry_with_its_message(bad_dataset):
    dm = _datamodule(bad_dataset, on_bad_item="fail", bad_items_path=None)
    with pytest.raises(
        BadItemError, match=r"tiny_train.json entry \d+ \(audio_id 'empty_caption'\)"
    ):
        dm.setup("fit")


@pytest.mark.parametrize("workers", [0, 1])
def test_fail_stops_at_a_bad_file_with_one_line_even_from_a_worker(tmp_path, workers):
    dataset = write_tiny_dataset(tmp_path / "tiny", counts=(4, 2, 2))
    (dataset / "audio" / "clip001.npy").unlink()
    dm = _datamodule(dataset, on_bad_item="fail", num_workers=workers, bad_items_path=None)
    with pytest.raises(BadItemError) as info:
        list(dm.val_dataloader()) + list(dm.train_dataloader())
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    assert "clip001.npy (audio_id 'clip001'): audio file not found" in message


def test_on_bad_item_must_be_skip_or_fail(tiny_dataset):
    with pytest.raises(DatasetError, match="data.on_bad_item must be skip or fail"):
        _datamodule(tiny_dataset, on_bad_item="ignore")


def test_permission_denied_is_named(tmp_path, monkeypatch):
    path = tmp_path / "locked.wav"
    sf.write(path, np.ones(1600, np.float32) * 0.1, 16000)
    real_open = type(path).open

    def refuse(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(type(path), "open", refuse)
    with pytest.raises(AudioError, match=r"locked.wav: permission denied") as info:
        read_clip(path, 16000, 0.05)
    assert info.value.kind == "unreadable"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_permission_denied_on_disk_is_named(tmp_path):
    path = tmp_path / "locked.npy"
    np.save(path, np.ones(1600, np.float32))
    path.chmod(0)
    with pytest.raises(AudioError, match="permission denied"):
        probe(path, 16000)


@pytest.mark.parametrize("suffix", [".npy", ".wav"])
def test_a_file_rewritten_after_it_was_opened_is_named_as_changed(tmp_path, suffix):
    path = tmp_path / f"clip{suffix}"
    _write(path, np.full(16000, 0.1, np.float32))
    source = probe(path, 16000)
    _write(path, np.full(8000, 0.1, np.float32))
    os.utime(path, ns=(source.mtime_ns + 10**9, source.mtime_ns + 10**9))
    with pytest.raises(AudioError, match=r"clip\.\w+: changed while being read") as info:
        _Decoder(source).__enter__()
    assert info.value.kind == "changed"


@pytest.mark.parametrize("suffix", [".npy", ".wav"])
def test_a_file_that_shrinks_mid_read_is_named_as_changed(tmp_path, suffix):
    path = tmp_path / f"clip{suffix}"
    _write(path, np.full(48000, 0.1, np.float32))
    source = probe(path, 16000)
    with _Decoder(source) as decoder:
        decoder.read(0, 16000)
        with path.open("r+b") as handle:
            handle.truncate(path.stat().st_size // 3)
        with pytest.raises(AudioError, match=r"clip\.\w+: changed while being read"):
            decoder.read(16000, 32000)


def test_a_crop_misses_what_the_whole_file_check_finds(tmp_path):
    wave = np.full(48000, 0.1, np.float32)
    wave[-1] = np.nan
    np.save(tmp_path / "late_nan.npy", wave)
    assert np.isfinite(read_clip(tmp_path / "late_nan.npy", 16000, 1.0, "centre")).all()
    with pytest.raises(AudioError, match="NaN or infinite"):
        check_whole_file(tmp_path / "late_nan.npy", 16000)


def test_stereo_npy_in_either_memory_order_reads_as_its_mean(tmp_path):
    stereo = np.stack([np.linspace(-1, 1, 1000), np.linspace(1, 0, 1000)]).astype(np.float32)
    np.save(tmp_path / "c.npy", stereo)
    np.save(tmp_path / "f.npy", np.asfortranarray(stereo))
    for name in ("c.npy", "f.npy"):
        wave = read_clip(tmp_path / name, 16000, None, "none")
        np.testing.assert_allclose(wave, stereo.mean(axis=0), atol=1e-6)


def test_bad_item_log_keeps_each_item_once_across_processes(tmp_path):
    path = tmp_path / "bad_items.jsonl"
    first, second = BadItemLog(path), BadItemLog(path)  # as two DataLoader workers
    for log in (first, second, first):
        log.report(tmp_path / "a.wav", AudioError(f"{tmp_path / 'a.wav'}: audio file not found"))
    first.report(tmp_path / "s.json", "empty caption", kind="bad caption", entry=3, audio_id="x")
    records = first.read()
    assert len(path.read_text().splitlines()) == 3 and len(records) == 2
    assert records[1]["error"] == f"{tmp_path / 's.json'} entry 3 (audio_id 'x'): empty caption"


def _write(path, wave):
    if path.suffix == ".npy":
        np.save(path, wave)
    else:
        sf.write(path, wave, 16000, subtype="FLOAT")
