import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from muscall.data.datamodule import AudioCaptionDataModule
from muscall.errors import DatasetError
from tests.helpers.datasets import write_tiny_dataset


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


class _Rank:
    """What the DataModule reads of a DDP trainer: its rank, the world size, a broadcast, and
    the device it feeds (whether to pin memory)."""

    def __init__(self, rank, world_size, rank0_seed=None):
        self.global_rank, self.world_size = rank, world_size
        self.broadcasts = []

        def broadcast(value, src):
            self.broadcasts.append(value)
            return value if rank0_seed is None else rank0_seed

        self.strategy = type(
            "Strategy",
            (),
            {"broadcast": staticmethod(broadcast), "root_device": torch.device("cpu")},
        )


def _ranked(root, rank, world_size=2, **overrides):
    dm = _datamodule(root, **overrides)
    dm.trainer = _Rank(rank, world_size)
    return dm


def test_ddp_ranks_train_on_disjoint_full_batches_of_one_epoch(tiny_dataset):
    # 12 tracks, 2 ranks, batch 4: 6 a rank, cut to one whole batch each.
    batches = [list(_ranked(tiny_dataset, rank, seed=3).train_dataloader()) for rank in (0, 1)]
    assert [len(b) for b in batches] == [1, 1]
    indices = [b[0]["index"].tolist() for b in batches]
    assert all(len(i) == 4 for i in indices) and not set(indices[0]) & set(indices[1])
    alone = [b["index"].tolist() for b in _datamodule(tiny_dataset, seed=3).train_dataloader()]
    assert set(indices[0] + indices[1]) <= {i for batch in alone for i in batch}


def test_ddp_ranks_share_rank_zeros_seed(tiny_dataset):
    dm = _datamodule(tiny_dataset, seed=None)
    dm.trainer = _Rank(1, 2, rank0_seed=77)
    dm.train_dataloader()
    assert dm.trainer.broadcasts and dm.seed == 77


def test_ddp_ranks_resume_at_their_own_next_batch(tiny_dataset):
    # 12 tracks, batch 2: 6 a rank, 3 batches; resume every rank at batch 1 of epoch 0.
    for rank in (0, 1):
        whole = list(_ranked(tiny_dataset, rank, batch_size=2, seed=4).train_dataloader())
        restored = _ranked(tiny_dataset, rank, batch_size=2, seed=9)
        restored.load_state_dict({"seed": 4, "epoch": 0, "batch": 1, "world_size": 2})
        rest = list(restored.train_dataloader())
        assert [b["index"].tolist() for b in rest] == [b["index"].tolist() for b in whole[1:]]


def test_ddp_evaluation_loaders_split_the_set_without_padding(tiny_dataset):
    parts = [
        [
            i
            for b in _ranked(tiny_dataset, rank, 3, eval_batch_size=1).val_dataloader()
            for i in b["index"].tolist()
        ]
        for rank in range(3)
    ]
    assert [i for part in parts for i in part] == [0, 1, 2, 3]  # 4 tracks over 3 ranks, once each
    assert sorted(map(len, parts)) == [1, 1, 2]


def test_ddp_evaluation_set_smaller_than_the_processes_is_refused_by_name(tiny_dataset):
    with pytest.raises(DatasetError, match=r"the val split of .* has 4 tracks, fewer than the 5"):
        _ranked(tiny_dataset, 0, 5).val_dataloader()


def test_ddp_bad_training_item_is_stood_in_for_and_batches_stay_full(tmp_path):
    dataset = write_tiny_dataset(tmp_path / "tiny")  # its own: this test breaks files
    entries = json.loads((dataset / "tiny_train.json").read_text())
    for bad in (2, 3):
        (dataset / entries[bad]["audio_path"]).unlink()
    seen = []
    for rank in (0, 1):
        dm = _ranked(dataset, rank, batch_size=2, seed=1)
        batches = list(dm.train_dataloader())
        assert len(batches) == 3 and all(b["audio"].shape == (2, 16000) for b in batches)
        seen += [i for b in batches for i in b["index"].tolist()]
    assert not {2, 3} & set(seen)
    assert {r["audio_id"] for r in dm.bad_items.read()} == {"clip002", "clip003"}
    alone = _datamodule(dataset, batch_size=2, seed=1)  # one process: dropped, as before
    assert sum(len(b["index"]) for b in alone.train_dataloader() if b is not None) < 12


@pytest.mark.parametrize(
    ("setting", "device", "pinned"),
    [(None, None, False), (None, "cpu", False), (None, "cuda", True), (False, "cuda", False)],
)
def test_memory_is_pinned_when_a_gpu_is_fed_unless_set(tiny_dataset, setting, device, pinned):
    dm = _datamodule(tiny_dataset, pin_memory=setting, num_workers=0)
    if device is not None:
        dm.trainer = SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device(device)))
    assert dm.pins_memory() is pinned
