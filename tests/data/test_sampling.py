"""The training order: a pure function of (seed, epoch), resumable at any batch."""

import torch

from muscall.data.sampling import Draw, SeededOrder, Shard

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


def _rank_epochs(size, world_size, batch_size, epoch=1, seed=5):
    orders = [SeededOrder(size, seed, rank, world_size, batch_size) for rank in range(world_size)]
    return orders, [_epoch(order, epoch) for order in orders]


def test_ranks_split_one_epoch_into_equal_disjoint_whole_batches():
    whole = _epoch(SeededOrder(23, seed=5), 1)
    orders, parts = _rank_epochs(23, world_size=3, batch_size=2)
    assert [len(part) for part in parts] == [6, 6, 6]  # 23 // 3 = 7, cut to whole batches
    assert all(len(order) == 6 for order in orders)  # what Lightning counts batches by
    drawn = [index for part in parts for index in part]
    assert len(set(drawn)) == 18  # disjoint
    assert set(drawn) == set(whole[:18])  # the single-process epoch, less its tail
    assert _rank_epochs(23, 3, 2, epoch=2)[1] != parts  # the next epoch is shuffled anew


def test_too_few_items_for_a_batch_per_rank_give_one_equal_small_batch():
    _, parts = _rank_epochs(5, world_size=2, batch_size=4)
    assert [len(part) for part in parts] == [2, 2] and not set(parts[0]) & set(parts[1])
    assert _rank_epochs(1, world_size=2, batch_size=4)[0][0].share == 0


def test_each_rank_resumes_mid_epoch_at_its_own_next_item():
    orders, parts = _rank_epochs(40, world_size=4, batch_size=3)  # 9 items, 3 batches a rank
    for order, part in zip(orders, parts, strict=True):
        order.resume_at(1, 2 * 3)  # batch 2, the same on every rank
        assert [draw.index for draw in order] == part[6:]
        assert _epoch(order, 1) == part


def test_evaluation_shards_are_disjoint_unpadded_and_cover_the_split():
    for size, world_size in [(10, 3), (7, 2), (1, 2), (8, 4)]:
        shards = [list(Shard(size, rank, world_size)) for rank in range(world_size)]
        assert [i for shard in shards for i in shard] == list(range(size))  # in order, once
        assert max(map(len, shards)) - min(map(len, shards)) <= 1


def test_a_stand_in_draw_has_a_crop_of_its_own():
    own, stand_in = Draw(4, 1, 0), Draw(4, 1, 0, instead_of=3)
    assert own.rng().random() != stand_in.rng().random()
    assert stand_in.rng().random() == Draw(4, 1, 0, instead_of=3).rng().random()
