import json

import numpy as np
import torch

from muscall.data.datamodule import AudioCaptionDataModule

from ..conftest import write_tiny_dataset


def _datamodule(root, **overrides):
    args = dict(
        root=root,
        name=None,
        sample_rate=16000,
        npy_sample_rate=16000,
        clip_seconds=1.0,
        eval_clip_seconds=None,
        eval_crop="centre",
        eval_hop_seconds=None,
        batch_size=4,
        eval_batch_size=8,
        num_workers=0,
        tokenizer=lambda texts: {"input_ids": torch.tensor([[len(t)] for t in texts])},
        bad_items_path=root / "bad_items.jsonl",
    )
    args.update(overrides)
    return AudioCaptionDataModule(**args)


def test_train_batches_are_tokenized_random_crops(tiny_dataset):
    dm = _datamodule(tiny_dataset)
    dm.setup("fit")
    batches = list(dm.train_dataloader())
    assert len(batches) == 3  # 12 tracks, batch 4, drop_last keeps whole batches
    batch = batches[0]
    assert batch["audio"].shape == (4, 16000)
    assert batch["tokens"]["input_ids"].shape == (4, 1)
    assert all(c.startswith("a ") for c in batch["caption"])


def test_eval_loader_is_ordered_and_centred(tiny_dataset):
    dm = _datamodule(tiny_dataset)
    first = next(iter(dm.val_dataloader()))
    again = next(iter(dm.val_dataloader()))
    assert first["index"].tolist() == [0, 1, 2, 3]
    torch.testing.assert_close(first["audio"], again["audio"])


def test_whole_track_windows_cover_each_track_and_name_their_owner(tiny_dataset):
    # 1.5 s tracks in 1 s windows: one at 0 s, the last ending at the track's end (0.5 s).
    dm = _datamodule(tiny_dataset, eval_crop="windows")
    batch = next(iter(dm.val_dataloader()))
    assert batch["audio"].shape == (8, 16000)
    assert batch["window_owner"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    path = dm.tracks("val")[0].audio_path
    whole = np.load(path)
    np.testing.assert_allclose(batch["audio"][0].numpy(), whole[:16000])
    np.testing.assert_allclose(batch["audio"][1].numpy(), whole[-16000:])


def test_small_train_split_still_gives_a_batch(tiny_dataset):
    dm = _datamodule(tiny_dataset, batch_size=256)
    assert len(list(dm.train_dataloader())) == 1


def test_bad_files_are_skipped_and_reported_once(tmp_path):
    dataset = write_tiny_dataset(tmp_path / "tiny")  # its own: this test breaks files
    entries = json.loads((dataset / "tiny_val.json").read_text())
    (dataset / entries[1]["audio_path"]).unlink()
    np.save(dataset / entries[2]["audio_path"], np.zeros(16000, np.float32))
    dm = _datamodule(dataset)
    for _ in range(2):
        batch = next(iter(dm.val_dataloader()))
        assert batch["index"].tolist() == [0, 3]
    reported = dm.bad_items.read()
    assert len(reported) == 2
    assert {"not found", "silent"} == {
        "not found" if "not found" in r["error"] else "silent" for r in reported
    }
    assert len((dataset / "bad_items.jsonl").read_text().splitlines()) == 2


def test_all_bad_batch_collates_to_none(tmp_path):
    dataset = write_tiny_dataset(tmp_path / "tiny")  # its own: this test deletes files
    for entry in json.loads((dataset / "tiny_test.json").read_text()):
        (dataset / entry["audio_path"]).unlink()
    dm = _datamodule(dataset)
    assert list(dm.test_dataloader()) == [None]


def test_max_captions_keeps_each_tracks_first_captions_in_every_split(tmp_path):
    import pytest

    from muscall.errors import DatasetError

    root = write_tiny_dataset(tmp_path / "tiny")
    for split in ("train", "val", "test"):
        path = root / f"tiny_{split}.json"
        entries = json.loads(path.read_text())
        for entry in entries:
            entry["caption"] = [entry["caption"], f"tags of {entry['audio_id']}"]
        path.write_text(json.dumps(entries))
    both = _datamodule(root)
    first = _datamodule(root, max_captions=1)
    for split in ("train", "val", "test"):
        assert all(len(t.captions) == 2 for t in both.tracks(split))
        assert [t.captions for t in first.tracks(split)] == [
            t.captions[:1] for t in both.tracks(split)
        ]
    with pytest.raises(DatasetError, match="data.max_captions=0"):
        _datamodule(root, max_captions=0)
