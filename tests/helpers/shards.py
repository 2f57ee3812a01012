"""Tiny datasets written as shards, and shards with a member corrupted, for the shard tests."""

from __future__ import annotations

from pathlib import Path

import webdataset as wds

from muscall.config import compose_config
from tests.helpers.datasets import write_tiny_dataset

# 40 training items over 4 shards: two workers read two shards each, and a shuffle shows.
COUNTS = (40, 8, 8)
PER_SHARD = 10


def sharded(root: Path, audio_format: str = "flac", counts=COUNTS, *extra: str) -> Path:
    """A tiny dataset under `root`, and its shards (returned: `<root>/tiny-shards`)."""
    return shard_folder(write_tiny_dataset(root / "tiny", counts=counts), audio_format, *extra)


def shard_folder(data: Path, audio_format: str = "flac", *extra: str) -> Path:
    """task=shard of the dataset folder `data`, into `<data>-shards`."""
    from muscall.tasks import shard

    overrides = [
        "task=shard",
        "data=folder",
        f"data.root={data}",
        f"task.audio_format={audio_format}",
        f"task.max_items_per_shard={PER_SHARD}",
        "workers=1",
        *extra,
    ]
    shard.run(compose_config(overrides, data.parent / "shard_run"))
    return data.parent / f"{data.name}-shards"


def rewrite_member(shard: Path, out: Path, key: str, member: str, data: bytes) -> None:
    """A copy of `shard` at `out` with `<key>.<member>` replaced by `data`."""
    with wds.TarWriter(str(out), encoder=False) as writer:
        for sample in wds.tarfile_samples([{"url": str(shard)}]):
            if sample["__key__"] == key:
                sample[member] = data
            writer.write({k: v for k, v in sample.items() if k != "__url__"})
