"""Writing a split of a folder dataset as WebDataset tar shards, each whole or not at all.

Each shard is written under a `.partial-` name and renamed once closed, so a run killed
midway leaves no `<split>-NNNNNN.tar` that looks complete; the manifest is written last.
A bad audio file is reported (log + the run's bad_items.jsonl) and skipped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from muscall.atomic import PARTIAL_PREFIX
from muscall.audio.reading import check_audible, read_clip
from muscall.data.bad_items import BadItemLog
from muscall.data.captions import CaptionedAudio
from muscall.data.shards.format import (
    AUDIO_FORMATS,
    MANIFEST,
    NPY_DTYPES,
    encode_audio,
    make_sample,
    shard_name,
)
from muscall.errors import AudioError, MuscallError
from muscall.extras import SHARDS_FEATURE, load

wds = load("webdataset", "shards", SHARDS_FEATURE)

log = logging.getLogger(__name__)

# Fixed member times: the same dataset sharded twice gives byte-identical tars.
MTIME = 0.0


@dataclass(frozen=True)
class ShardSettings:
    """How audio is stored and shards are cut (the `task=shard` config)."""

    sample_rate: int
    npy_sample_rate: int
    audio_format: str
    npy_dtype: str
    max_items_per_shard: int
    max_shard_bytes: float

    def __post_init__(self):
        if self.audio_format not in AUDIO_FORMATS:
            raise MuscallError(f"task.audio_format must be flac or npy, got {self.audio_format!r}")
        if self.npy_dtype not in NPY_DTYPES:
            raise MuscallError(f"task.npy_dtype must be float32 or int16, got {self.npy_dtype!r}")
        if self.max_items_per_shard < 1 or self.max_shard_bytes <= 0:
            raise MuscallError("task.max_items_per_shard and task.max_shard_bytes must be > 0")


def prepare_folder(out: Path, overwrite: bool) -> None:
    """Make `out`; refuse one holding shards unless `overwrite`, then clear those and leftovers."""
    out.mkdir(parents=True, exist_ok=True)
    ours = [*out.glob("*-[0-9][0-9][0-9][0-9][0-9][0-9].tar"), out / MANIFEST]
    ours = [p for p in ours if p.exists()]
    if ours and not overwrite:
        raise MuscallError(
            f"out={out} already holds shards ({ours[0].name}, ...): "
            "choose another folder or set task.overwrite=true"
        )
    # A killed run's half shards, and with overwrite the old set, which a reader must not mix in.
    for path in [*ours, *out.glob(f"{PARTIAL_PREFIX}*.tar")]:
        path.unlink()


def write_split(
    tracks: Sequence[CaptionedAudio],
    root: Path,
    split: str,
    out: Path,
    settings: ShardSettings,
    bad_items: BadItemLog,
    workers: int = 1,
) -> dict:
    """Write `tracks` as `<out>/<split>-NNNNNN.tar`; returns the split's manifest entry."""
    encode = partial(_encode_track, settings=settings)
    shards = _AtomicShards(out, split, settings)
    skipped = 0
    try:
        for track, result in zip(tracks, _mapped(encode, tracks, workers), strict=True):
            if isinstance(result, Exception):
                bad_items.report(track.audio_path, result, audio_id=track.audio_id)
                skipped += 1
                continue
            audio, frames = result
            metadata = {
                "source": _relative(track.audio_path, root),
                "sample_rate": settings.sample_rate,
                "frames": frames,
                "duration": frames / settings.sample_rate,
            }
            key = f"{shards.total:08d}"
            shards.write(
                make_sample(
                    key, track.audio_id, track.captions, audio, settings.audio_format, metadata
                )
            )
    except BaseException:
        shards.abort()
        raise
    names, counts = shards.close()
    log.info("%s: %d items in %d shards, %d skipped", split, sum(counts), len(names), skipped)
    return {
        "shards": names,
        "counts": counts,
        "count": sum(counts),
        "skipped": skipped,
        "urls": brace_pattern(split, len(names)),
    }


def brace_pattern(split: str, shards: int) -> str | None:
    """`train-{000000..000009}.tar`: the split's shards as one brace-expanded URL."""
    if shards == 0:
        return None
    last = shard_name(split) % (shards - 1)
    if shards == 1:
        return last
    return shard_name(split).replace("%06d", f"{{000000..{shards - 1:06d}}}")


def _encode_track(track: CaptionedAudio, settings: ShardSettings) -> tuple[bytes, int] | Exception:
    """(encoded audio, frames) of a whole track at the shard rate; the problem if unusable."""
    try:
        wave = read_clip(
            track.audio_path, settings.sample_rate, None, "none", None, settings.npy_sample_rate
        )
        check_audible(wave, track.audio_path)
    except (AudioError, OSError) as error:
        return error
    audio = encode_audio(wave, settings.sample_rate, settings.audio_format, settings.npy_dtype)
    return audio, int(wave.shape[0])


def _mapped(fn: Callable, items: Sequence, workers: int) -> Iterator:
    """`map(fn, items)` in order, over `workers` processes when more than one."""
    if workers <= 1 or len(items) < 2:
        yield from map(fn, items)
        return
    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(fn, items, chunksize=max(1, min(16, len(items) // (4 * workers))))


def _relative(path: Path, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:  # a dataset whose files live elsewhere: keep where it came from
        return str(path)


class _AtomicShards:
    """wds.ShardWriter whose shards are renamed into place only once closed whole."""

    def __init__(self, out: Path, split: str, settings: ShardSettings):
        self.out, self.split, self.settings = out, split, settings
        self.writer: wds.ShardWriter | None = None
        self.finished: list[str] = []
        self.counts: list[int] = []
        self.total = 0
        self._aborting = False

    def write(self, sample: dict) -> None:
        if self.writer is None:  # ShardWriter opens a shard at once: only when there is an item
            self.writer = wds.ShardWriter(
                str(self.out / f"{PARTIAL_PREFIX}{shard_name(self.split)}"),
                maxcount=self.settings.max_items_per_shard,
                maxsize=self.settings.max_shard_bytes,
                post=self._closed,
                verbose=0,
                encoder=False,
                mtime=MTIME,
            )
        self.writer.write(sample)
        self.total += 1

    def _closed(self, partial_name: str) -> None:
        partial_path = Path(partial_name)
        if self._aborting:
            partial_path.unlink(missing_ok=True)
            return
        final = partial_path.with_name(partial_path.name.removeprefix(PARTIAL_PREFIX))
        os.replace(partial_path, final)
        self.finished.append(final.name)
        self.counts.append(self.writer.count)

    def close(self) -> tuple[list[str], list[int]]:
        if self.writer is not None:
            self.writer.close()
        return self.finished, self.counts

    def abort(self) -> None:
        """On an error or interrupt: the open shard is deleted, never renamed into place."""
        self._aborting = True
        if self.writer is not None and self.writer.tarstream is not None:
            self.writer.finish()


def shuffled(tracks: Iterable[CaptionedAudio], seed: int | None) -> list[CaptionedAudio]:
    """Tracks in a seeded random order (None: as listed), so neighbours in a shard are unrelated."""
    tracks = list(tracks)
    if seed is None:
        return tracks
    order = np.random.default_rng(seed).permutation(len(tracks))
    return [tracks[i] for i in order]
