"""task=shard: a prepared dataset (any folder `data=` config) -> WebDataset tar shards per split."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from omegaconf import DictConfig

from muscall.data.datamodule import AudioCaptionDataModule
from muscall.data.json_io import write_json
from muscall.data.shards.format import MANIFEST, MANIFEST_FORMAT
from muscall.data.shards.writing import ShardSettings, prepare_folder, shuffled, write_split
from muscall.errors import MuscallError
from muscall.report import format_table
from muscall.runs.assembly import build_datamodule, start_run

log = logging.getLogger(__name__)


def run(cfg: DictConfig) -> dict[str, float]:
    task = cfg.task
    settings = ShardSettings(
        sample_rate=cfg.data.sample_rate,
        npy_sample_rate=cfg.data.npy_sample_rate,
        audio_format=task.audio_format,
        npy_dtype=task.npy_dtype,
        max_items_per_shard=task.max_items_per_shard,
        max_shard_bytes=task.max_shard_bytes,
    )
    run_dir = start_run(cfg)
    data = build_datamodule(cfg.data, None, run_dir, seed=cfg.get("seed"))
    if type(data) is not AudioCaptionDataModule:
        raise MuscallError(
            f"task=shard reads a dataset folder (data=folder, synthmusic, musiccaps, ...), "
            f"not data={cfg.data._target_.rsplit('.', 1)[-1]}"
        )
    out = Path(cfg.out).expanduser().resolve()
    prepare_folder(out, task.overwrite)
    workers = cfg.workers or os.cpu_count() or 1
    splits = {}
    for split in task.splits:
        if not data.has_split(split):
            log.warning("%s has no %s split: none written", data.root, split)
            continue
        tracks = data.tracks(split)
        if split == "train" and task.shuffle_train:
            tracks = shuffled(tracks, cfg.get("seed") or 0)
        splits[split] = write_split(
            tracks, data.root, split, out, settings, data.bad_items, workers
        )
    if not splits:
        raise MuscallError(f"task.splits={list(task.splits)}: none of them in {data.root}")
    manifest = {
        "format": MANIFEST_FORMAT,
        "dataset": {"root": str(data.root), "name": data.name},
        "sample_rate": settings.sample_rate,
        "audio_format": settings.audio_format,
        "npy_dtype": settings.npy_dtype if settings.audio_format == "npy" else None,
        "clip_seconds": cfg.data.clip_seconds,
        "splits": splits,
    }
    write_json(out / MANIFEST, manifest)  # last: its presence says the set is whole
    metrics = {}
    for split, entry in splits.items():
        metrics.update({f"{split}/items": entry["count"], f"{split}/shards": len(entry["shards"])})
        metrics[f"{split}/skipped"] = entry["skipped"]
    print(format_table({k: float(v) for k, v in metrics.items()}, f"task=shard -> {out}"))
    if "train" in splits and splits["train"]["urls"]:
        print(f"train with: python src/run.py data=webdataset data.urls={out}")
    return {k: float(v) for k, v in metrics.items()}
