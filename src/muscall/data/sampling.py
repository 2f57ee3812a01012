"""The training order: a pure function of (seed, epoch), so a run resumed mid-epoch continues
with exactly the batches, and the random crops, that the uninterrupted run would have drawn.

Nothing here reads a global or per-worker random state: the order of epoch e is a permutation
drawn from (seed, e), and the crop and caption of item i in epoch e from (seed, e, i). Resuming
at batch b of epoch e only needs (seed, e, b); the skipped items are never decoded.

Under DDP every rank draws the same permutation and keeps its own stride of it, so the ranks
see disjoint items and a resumed rank only needs the (epoch, batch) that all ranks share.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from torch.utils.data import Sampler


class Draw(NamedTuple):
    """One training item of one epoch: the dataset index and what seeds its random crop.

    `instead_of`: the index of the unreadable item this one stands in for (see
    AudioCaptionDataset), so the stand-in gets a crop and caption of its own, not a copy of
    the ones it draws in its own place.
    """

    index: int
    seed: int
    epoch: int
    instead_of: int | None = None

    def rng(self) -> np.random.Generator:
        key = [self.seed, self.epoch, self.index]
        return np.random.default_rng(key if self.instead_of is None else [*key, self.instead_of])


def rank_share(size: int, world_size: int, batch_size: int) -> int:
    """How many items of an epoch each of `world_size` ranks draws: the same on every rank,
    whole batches when each rank gets at least one, else one smaller batch (0: too few items).

    Equal counts are what DDP needs: a rank with a batch less would leave the others waiting
    in the gradient all-reduce, and a short batch would not gather with full ones.
    """
    share = size // world_size
    return share - share % batch_size if share >= batch_size else share


class SeededOrder(Sampler[Draw]):
    """Every item once per epoch, shuffled by (seed, epoch); `resume_at` starts mid-epoch.

    With `world_size` > 1 this is rank `rank`'s part: items r, r + W, r + 2W, ... of the epoch's
    permutation, cut to `rank_share` items; the few left over are drawn by no rank that epoch
    (another permutation next epoch). With one rank it is the whole epoch, and the DataLoader's
    drop_last drops the tail.
    """

    def __init__(
        self, size: int, seed: int, rank: int = 0, world_size: int = 1, batch_size: int = 1
    ):
        self.size = size
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.share = size if world_size == 1 else rank_share(size, world_size, batch_size)
        self.epoch = 0
        self._resume: tuple[int, int] | None = None

    def __len__(self) -> int:
        # The whole epoch, also when resumed: Lightning counts a resumed epoch's batches on.
        return self.share

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning before each epoch."""
        self.epoch = epoch

    def resume_at(self, epoch: int, first_item: int) -> None:
        """Begin the next pass at item `first_item` of this rank's part of `epoch`'s order;
        later passes are whole."""
        self.epoch = epoch
        self._resume = (epoch, first_item)

    def __iter__(self):
        epoch = self.epoch
        first = self._resume[1] if self._resume and self._resume[0] == epoch else 0
        self._resume = None
        order = np.random.default_rng([self.seed, epoch]).permutation(self.size)
        if self.world_size > 1:
            order = order[: self.share * self.world_size][self.rank :: self.world_size]
        for index in order[first:]:
            yield Draw(int(index), self.seed, epoch)


class Shard(Sampler[int]):
    """Rank `rank`'s contiguous part of range(size), in order: evaluation under DDP.

    No padding (unlike torch's DistributedSampler): the parts are disjoint and together the
    whole split, so metrics over the gathered parts count every track once. Their lengths
    differ by at most one item, hence possibly by one batch: no collective per batch.
    """

    def __init__(self, size: int, rank: int, world_size: int):
        self.start = size * rank // world_size
        self.stop = size * (rank + 1) // world_size

    def __len__(self) -> int:
        return self.stop - self.start

    def __iter__(self):
        return iter(range(self.start, self.stop))


def next_batch(trainer) -> tuple[int, int]:
    """(epoch, batch) of the first training batch that a run resumed from a checkpoint
    saved now draws, from Lightning's own progress counters.

    Inside an epoch, the batches fully run so far (Lightning's restore replays a batch whose
    step was cut short); once the epoch's batches are all run, the next epoch's first batch.
    Under DDP these are per-rank batches, the same number on every rank.
    """
    epochs = trainer.fit_loop.epoch_progress.current
    batches = trainer.fit_loop.epoch_loop.batch_progress.current
    if epochs.processed < epochs.started:  # an epoch is under way
        epoch, batch = epochs.processed, batches.processed
    else:
        epoch, batch = epochs.processed, 0
    if batch >= trainer.num_training_batches:
        epoch, batch = epoch + 1, 0
    return epoch, batch
