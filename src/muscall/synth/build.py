"""Build the captioned music dataset: render clips in parallel, then write splits and sets."""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from muscall.data.json_io import write_json
from muscall.errors import MuscallError
from muscall.synth.clip import genre_plan, make_clip
from muscall.synth.layout import AUDIO_DIR, assign_splits, audio_path, write_splits, write_zeroshot
from muscall.synth.manifest import (
    FORMAT_VERSION,
    GENERATOR,
    MARKER,
    manifest_path,
    matches,
    prepare_folder,
    read_manifest,
    source_hash,
)
from muscall.synth.styles import GENRES

log = logging.getLogger(__name__)
CHUNK = 8  # clips per task sent to a worker: enough to amortise the pickling


def build_dataset(
    root: str | Path, *, workers: int | None = None, overwrite: bool = False, **params
) -> dict:
    """Render the dataset into `root` (or find it there already); returns a short summary.

    `params` are those of `build_params`: what decides the output. `workers`: processes
    that render (None: every core); `overwrite`: replace a dataset built differently.
    """
    root = Path(root).expanduser()
    params = build_params(**params)
    name, seed, num_clips = params["name"], params["seed"], params["num_clips"]
    if not overwrite and matches(root, params):
        counts = read_manifest(root)["counts"]
        return {"root": str(root), "built": False, "clips": num_clips, **counts, "seconds": 0.0}
    prepare_folder(root, name, params, overwrite)
    started = time.perf_counter()
    (root / MARKER).write_text("a build is in progress or was interrupted\n")
    (root / AUDIO_DIR).mkdir(exist_ok=True)
    genres = genre_plan(seed, num_clips)
    entries = _render_all(root, params, genres, workers)
    splits = assign_splits(genres, seed, params["val_fraction"], params["test_fraction"])
    write_splits(root, name, entries, splits)
    write_zeroshot(root, entries, splits["test"])
    counts = {split: len(indices) for split, indices in splits.items()}
    seconds = round(time.perf_counter() - started, 2)
    write_json(manifest_path(root), _manifest(params, counts, genres, seconds))
    (root / MARKER).unlink()
    log.info("built %d clips into %s in %.1f s", num_clips, root, seconds)
    return {"root": str(root), "built": True, "clips": num_clips, **counts, "seconds": seconds}


def dataset_matches(
    root: str | Path, *, workers: int | None = None, overwrite: bool = False, **params
) -> bool:
    """Whether `root` holds the finished dataset that `build_dataset` makes of these arguments.

    It takes `workers` and `overwrite` too, so both accept the same arguments, and ignores them.
    """
    return matches(Path(root).expanduser(), build_params(**params))


def build_params(
    *,
    name: str = "synthmusic",
    num_clips: int = 1200,
    clip_seconds: float = 10.0,
    sample_rate: int = 16000,
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
) -> dict:
    """The parameters that decide the output, validated and in their JSON form."""
    problems = []
    if not str(name) or "/" in str(name):
        problems.append(f"name={name!r} must be a plain file-name prefix")
    if int(num_clips) < 3:
        problems.append(f"num_clips={num_clips} must be at least 3 (one clip per split)")
    if not 0 < float(clip_seconds) <= 600:
        problems.append(f"clip_seconds={clip_seconds} must be in (0, 600]")
    if not 8000 <= int(sample_rate) <= 48000:
        problems.append(f"sample_rate={sample_rate} must be between 8000 and 48000")
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        problems.append("val_fraction and test_fraction must be in [0, 1) and sum below 1")
    if problems:
        raise MuscallError("data.generate: " + "; ".join(problems))
    return {
        "name": str(name),
        "num_clips": int(num_clips),
        "clip_seconds": float(clip_seconds),
        "sample_rate": int(sample_rate),
        "seed": int(seed),
        "val_fraction": float(val_fraction),
        "test_fraction": float(test_fraction),
    }


def _render_all(root: Path, params: dict, genres: list[str], workers: int | None) -> list[dict]:
    """Render every clip (in worker processes when more than one) and return the entries."""
    jobs = [
        (str(root), params["seed"], i, genre, params["clip_seconds"], params["sample_rate"])
        for i, genre in enumerate(genres)
    ]
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    if workers == 1:
        return [_render_one(job) for job in jobs]
    # spawn: the worker needs only numpy and tinysoundfont, and a fork of a process that
    # already runs torch or logging threads can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(_render_one, jobs, chunksize=CHUNK))


def _render_one(job: tuple) -> dict:
    """Render, save and describe one clip; runs in a worker process."""
    root, seed, index, genre, seconds, sample_rate = job
    clip = make_clip(seed, index, genre, seconds, sample_rate)
    relative = audio_path(clip.audio_id)
    target = Path(root) / relative
    partial = target.with_name(target.name + ".partial")
    with partial.open("wb") as handle:
        np.save(handle, clip.audio)
    os.replace(partial, target)
    return {
        "audio_id": clip.audio_id,
        "caption": [clip.sentence, clip.tags],
        "audio_path": relative,
        "attributes": clip.attributes.to_json(),
    }


def _manifest(params: dict, counts: dict, genres: list[str], seconds: float) -> dict:
    return {
        "generator": GENERATOR,
        "format_version": FORMAT_VERSION,
        "source_hash": source_hash(),
        "params": params,
        "counts": counts,
        "genres": {genre: Counter(genres)[genre] for genre in GENRES},
        "labels": list(GENRES),
        "seconds": seconds,
    }
