"""The training order: a pure function of (seed, epoch), so a run resumed mid-epoch continues
with exactly the batches, and the random crops, that the uninterrupted run would have drawn.

Nothing here reads a global or per-worker random state: the order of epoch e is a permutation
drawn from (seed, e), and the crop and caption of item i in epoch e from (seed, e, i). Resuming
at batch b of epoch e only needs (seed, e, b); the skipped items are never decoded.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from torch.utils.data import Sampler


class Draw(NamedTuple):
    """One training item of one epoch: the dataset index and what seeds its random crop."""

    index: int
    seed: int
    epoch: int

    def rng(self) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch, self.index])


class SeededOrder(Sampler[Draw]):
    """Every item once per epoch, shuffled by (seed, epoch); `resume_at` starts mid-epoch."""

    def __init__(self, size: int, seed: int):
        self.size = size
        self.seed = seed
        self.epoch = 0
        self._resume: tuple[int, int] | None = None

    def __len__(self) -> int:
        # The whole epoch, also when resumed: Lightning counts a resumed epoch's batches on.
        return self.size

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning before each epoch."""
        self.epoch = epoch

    def resume_at(self, epoch: int, first_item: int) -> None:
        """Begin the next pass at item `first_item` of `epoch`'s order; later passes are whole."""
        self.epoch = epoch
        self._resume = (epoch, first_item)

    def __iter__(self):
        epoch = self.epoch
        first = self._resume[1] if self._resume and self._resume[0] == epoch else 0
        self._resume = None
        order = np.random.default_rng([self.seed, epoch]).permutation(self.size)
        for index in order[first:]:
            yield Draw(int(index), self.seed, epoch)


def next_batch(trainer) -> tuple[int, int]:
    """(epoch, batch) of the first training batch that a run resumed from a checkpoint
    saved now draws, from Lightning's own progress counters.

    Inside an epoch, the batches fully run so far (Lightning's restore replays a batch whose
    step was cut short); once the epoch's batches are all run, the next epoch's first batch.
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
