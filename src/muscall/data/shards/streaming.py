"""Streaming WebDataset shards: training epochs of a fixed length, resumable, and evaluation.

A *reader* is one DataLoader worker of one DDP rank. Each epoch the shard list is shuffled by
(seed, epoch) and dealt out, shard by shard, to the readers (with fewer shards than readers,
each reads them all and keeps every n-th sample); a reader mixes its samples in a shuffle
buffer, cycling over its shards as often as its share of the epoch needs. Everything a reader
yields, the crop and caption included, follows from (seed, epoch, reader, position), so an
epoch resumed at batch b continues with the very batches the uninterrupted run would have
given (see `TrainStream.start`).
"""

from __future__ import annotations

import itertools
import logging
import random
import zlib
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from muscall.data.bad_items import BadItemLog
from muscall.data.shards.format import ShardAudio, ShardItem, parse_sample
from muscall.errors import AudioProblem, DatasetError
from muscall.extras import SHARDS_FEATURE, load

wds = load("webdataset", "shards", SHARDS_FEATURE)

log = logging.getLogger(__name__)


def read_shard(url: str, bad_items: BadItemLog) -> Iterator[dict]:
    """The raw samples of one shard; a shard that cannot be opened or read on is reported."""

    def skip(error: Exception) -> bool:
        kind = "missing" if isinstance(error, FileNotFoundError) else "undecodable"
        reason = error.args[0] if error.args else repr(error)
        bad_items.report(url, f"cannot read shard: {reason}", kind=kind)
        return True  # go on with the next shard

    yield from wds.tarfile_samples([{"url": url}], handler=skip)


def item_index(key: str) -> int:
    """The sample's position in its split (task=shard keys); other shards' keys are hashed."""
    return int(key) if key.isdigit() else zlib.crc32(key.encode("utf-8"))


class SampleDecoder:
    """Raw sample -> training item (random crop, one caption) or evaluation item.

    `mode`: "random" (training), "centre" or "windows" (evaluation, every caption kept).
    A sample that cannot be used is reported by shard and key and gives None.
    """

    def __init__(
        self,
        mode: str,
        sample_rate: int,
        npy_sample_rate: int,
        clip_seconds: float,
        bad_items: BadItemLog,
        hop_seconds: float | None = None,
        max_captions: int | None = None,
    ):
        self.mode, self.sample_rate, self.npy_sample_rate = mode, sample_rate, npy_sample_rate
        self.clip_seconds, self.hop_seconds = clip_seconds, hop_seconds
        self.bad_items, self.max_captions = bad_items, max_captions

    def __call__(self, sample: dict, rng: np.random.Generator | None = None) -> dict | None:
        item: ShardItem | None = None
        try:
            item = parse_sample(sample)
            audio = ShardAudio(item, self.npy_sample_rate)
            if self.mode == "windows":
                wave = audio.windows(self.sample_rate, self.clip_seconds, self.hop_seconds)
            else:
                wave = audio.crop(self.sample_rate, self.clip_seconds, self.mode, rng)
        except AudioProblem as problem:
            self.bad_items.report(
                sample.get("__url__", "?"),
                problem,
                entry=sample.get("__key__"),
                audio_id=item.audio_id if item else None,
            )
            return None
        captions = item.captions[: self.max_captions] if self.max_captions else item.captions
        out = {"index": item_index(item.key), "audio": torch.from_numpy(wave)}
        if self.mode == "random":
            out["caption"] = captions[int(rng.integers(len(captions)))]
        else:
            out["caption"], out["captions"] = captions[0], captions
        return out


def _reader() -> tuple[int, int]:
    """(this DataLoader worker, how many): (0, 1) in the main process."""
    info = get_worker_info()
    return (info.id, info.num_workers) if info is not None else (0, 1)


class TrainStream(IterableDataset):
    """Training samples of the shards: `batches_per_reader` batches from each reader per epoch."""

    def __init__(
        self,
        urls: Sequence[str],
        decode: SampleDecoder,
        seed: int,
        shuffle_buffer: int,
        batch_size: int,
        batches_per_reader: int,
        workers: int,
        rank: int = 0,
        world: int = 1,
    ):
        self.urls, self.decode, self.seed = list(urls), decode, seed
        self.shuffle_buffer, self.batch_size = shuffle_buffer, batch_size
        self.batches_per_reader, self.workers = batches_per_reader, max(1, workers)
        self.rank, self.world = rank, world
        self.epoch, self.first_batch = 0, 0

    def __len__(self) -> int:
        """Samples this rank yields per epoch (DataLoader divides by the batch size)."""
        return self.batches_per_reader * self.batch_size * self.workers

    def start(self, epoch: int, first_batch: int = 0) -> None:
        """The next pass is `epoch`, from its batch `first_batch` (0: the whole epoch).

        The loader takes batches from its workers in turn, so batch k came from worker
        k mod W. Worker w then plays the part of worker (w + first_batch) mod W, and skips the
        batches that part had given: the loader's turns line up with the uninterrupted epoch's.
        """
        self.epoch, self.first_batch = epoch, first_batch

    def __iter__(self) -> Iterator[dict | None]:
        worker, workers = _reader()
        if workers != self.workers:
            raise RuntimeError(f"TrainStream built for {self.workers} workers, run by {workers}")
        part = (worker + self.first_batch) % workers
        reader, readers = self.rank * workers + part, self.world * workers
        done = len(range(part, self.first_batch, workers)) * self.batch_size
        rng = random.Random(self._seed(reader))
        # Each pass over the reader's shards is shuffled on its own: a buffer bigger than the
        # reader's share would otherwise mix passes, and an item come twice in one epoch.
        mix = wds.filters.shuffle(self.shuffle_buffer, initial=self.shuffle_buffer, rng=rng)
        buffered = itertools.chain.from_iterable(mix(p) for p in self._passes(reader, readers))
        quota = self.batches_per_reader * self.batch_size
        yield from self._decoded(itertools.islice(buffered, quota), reader, done)

    def _decoded(self, samples: Iterator[dict], reader: int, done: int) -> Iterator[dict | None]:
        """Decoded samples from position `done` on; the skipped ones are read (the buffer's
        state depends on them) but never decoded.

        Under DDP an unusable sample is stood in for by this reader's previous usable item
        (or its next, at the start): a dropped one would leave one rank a short batch, which
        the ranks' gathers cannot take. Positions, and so every later draw, do not move.
        """
        last, owed = None, 0
        for position, sample in enumerate(samples):
            if position < done:
                continue
            item = self.decode(sample, np.random.default_rng([*self._key(reader), position]))
            if item is None and self.world > 1:
                if last is None:
                    owed += 1
                    continue
                item = last
            if item is not None:
                yield from itertools.repeat(item, owed)
                last, owed = item, 0
            yield item
        if owed:
            raise DatasetError(f"data.urls: reader {reader} read no usable sample this epoch")

    def _key(self, reader: int) -> list[int]:
        return [self.seed, self.epoch, reader]

    def _seed(self, reader: int) -> int:
        return int(np.random.SeedSequence(self._key(reader)).generate_state(1)[0])

    def _passes(self, reader: int, readers: int) -> Iterator[Iterator[dict]]:
        """This reader's samples, pass after pass over its shards, each pass dealt afresh."""
        for again in itertools.count():
            order = np.random.default_rng([self.seed, self.epoch, again]).permutation(
                len(self.urls)
            )
            urls = [self.urls[i] for i in order]
            found = [0]
            yield self._pass(urls, reader, readers, found)
            if not found[0]:
                raise DatasetError(
                    f"data.urls: reader {reader} found no readable sample in its shards "
                    f"({urls[0]}, ...): see the skipped shards above"
                )

    def _pass(self, urls: list[str], reader: int, readers: int, found: list[int]):
        shared = len(urls) < readers  # each reads every shard and keeps every n-th sample
        seen = itertools.count()
        for url in urls if shared else urls[reader::readers]:
            for sample in read_shard(url, self.decode.bad_items):
                if shared and next(seen) % readers != reader:
                    continue
                found[0] += 1
                yield sample


class EvalStream(IterableDataset):
    """Every sample of the shards once, in order, each reader reading its own shards.

    With fewer shards than readers (workers x processes), every reader reads them all and
    decodes every n-th sample instead, so no worker or GPU sits out the evaluation.
    """

    def __init__(self, urls: Sequence[str], decode: SampleDecoder, rank: int = 0, world: int = 1):
        self.urls, self.decode, self.rank, self.world = list(urls), decode, rank, world

    def __iter__(self) -> Iterator[dict]:
        worker, workers = _reader()
        reader, readers = self.rank * workers + worker, self.world * workers
        by_shard = len(self.urls) >= readers
        urls = self.urls[reader::readers] if by_shard else self.urls
        position = 0
        for url in urls:
            for sample in read_shard(url, self.decode.bad_items):
                mine = by_shard or position % readers == reader
                position += 1
                if mine and (item := self.decode(sample)) is not None:
                    yield item


class EpochLoader(DataLoader):
    """A DataLoader over a TrainStream that asks, at each pass, where the pass starts.

    `position()` gives (epoch, first batch). Workers are started afresh each pass (not
    persistent), so each gets the stream as `start` left it.
    """

    def __init__(self, dataset: TrainStream, position: Callable[[], tuple[int, int]], **kwargs):
        super().__init__(dataset, persistent_workers=False, **kwargs)
        self.position = position

    def __iter__(self):
        self.dataset.start(*self.position())
        return super().__iter__()
