"""The training order: a pure function of (seed, epoch), resumable at any batch."""

import torch

from muscall.data.sampling import Draw, SeededOrder

from .test_datamodule import _datamodule


def _epoch(order, epoch):
    order.set_epoch(epoch)
    return [draw.index for draw in order]


def test_each_epoch_is_a_permutation_fixed_by_seed_and_epoch():
    order = SeededOrder(10, seed=3)
    first, second = _epoch(order, 0), _epoch(order, 1)
    assert sorted(first) == list(range(10)) and first != second
    assert _epoch(SeededOrder(10, seed=3), 1) == second  # nothing else decides it
    assert _epoch(SeededOrder(10, seed=4), 1) != second


def test_resuming_mid_epoch_gives_the_rest_then_whole_epochs():
    order = SeededOrder(10, seed=3)
    whole = _epoch(order, 2)
    order.resume_at(2, 6)
    assert [draw.index for draw in order] == whole[6:]
    assert _epoch(order, 2) == whole  # the next pass is whole again
    assert list(order)[0] == Draw(whole[0], 3, 2)


def test_a_crop_depends_on_seed_epoch_and_item_only():
    same = Draw(5, 1, 0).rng().random(), Draw(5, 1, 0).rng().random()
    assert same[0] == same[1]
    assert Draw(5, 1, 1).rng().random() != same[0] and Draw(6, 1, 0).rng().random() != same[0]


def test_a_datamodule_restored_mid_epoch_serves_the_remaining_batches(tiny_dataset):
    first = _datamodule(tiny_dataset, seed=8)
    batches = list(first.train_dataloader())  # 12 tracks: 3 batches of 4
    restored = _datamodule(tiny_dataset, seed=1)
    restored.load_state_dict({"seed": 8, "epoch": 0, "batch": 1})
    rest = list(restored.train_dataloader())
    assert len(rest) == 2
    for got, want in zip(rest, batches[1:], strict=True):
        assert torch.equal(got["index"], want["index"]) and torch.equal(got["audio"], want["audio"])
        assert got["caption"] == want["caption"]
