"""Build the held-out set: render clips in worker processes, then write the files."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from bench.heldout import layout
from bench.heldout.captions import captions
from bench.heldout.render import render
from bench.heldout.spec import ClipSpec, plan

from muscall.data.json_io import read_json, write_json
from muscall.errors import DatasetError

GENERATOR = "bench.heldout"
FORMAT_VERSION = 2  # bump when the same parameters would give other audio or captions
MANIFEST = "manifest.json"
CAPTION_SALT = 5


def build(
    root: str | Path,
    *,
    num_clips: int = 600,
    clip_seconds: float = 6.0,
    sample_rate: int = 16000,
    seed: int = 0,
    val: int = 100,
    test: int = 100,
    workers: int = 2,
) -> dict:
    """Write the held-out set into `root` (or find it there); returns its manifest."""
    root = Path(root).expanduser()
    params = {"num_clips": num_clips, "clip_seconds": clip_seconds, "sample_rate": sample_rate,
              "seed": seed, "val": val, "test": test, "format_version": FORMAT_VERSION}  # fmt: skip
    if num_clips < val + test + 1 or min(val, test) < 1:
        raise DatasetError(f"heldout: num_clips={num_clips} must exceed val + test ({val + test})")
    existing = _manifest(root)
    if existing is not None and existing["params"] == params:
        return existing
    _clear(root, existing)
    started = time.perf_counter()
    specs = plan(seed, num_clips)
    (root / layout.AUDIO_DIR).mkdir(parents=True, exist_ok=True)
    entries = _render_all(root, specs, params, workers)
    splits = layout.assign_splits(specs, seed, val, test)
    layout.write_splits(root, entries, splits)
    layout.write_attribute_sets(root, specs, splits["test"])
    limits = layout.write_ceiling(root, specs, entries, splits)
    manifest = {"generator": GENERATOR, "params": params,
                "counts": {split: len(splits[split]) for split in layout.SPLITS},
                "ceiling_test": limits["test"], "seconds": round(time.perf_counter() - started, 2)}  # fmt: skip
    write_json(root / MANIFEST, manifest)  # last: its presence marks a finished build
    return manifest


def _manifest(root: Path) -> dict | None:
    path = root / MANIFEST
    if not path.is_file():
        return None
    manifest = read_json(path, "held-out manifest")
    return manifest if manifest.get("generator") == GENERATOR else None


def _clear(root: Path, existing: dict | None) -> None:
    """Remove an older held-out build; refuse a folder that holds anything else."""
    if not root.exists():
        return
    if existing is None and any(root.iterdir()):
        raise DatasetError(f"{root}: not empty and holds no held-out set; choose another folder")
    (root / MANIFEST).unlink(missing_ok=True)
    for path in [root / f"{layout.NAME}_{s}.json" for s in layout.SPLITS] + [root / layout.CEILING]:
        path.unlink(missing_ok=True)
    for folder in (layout.AUDIO_DIR, layout.SETS_DIR):
        shutil.rmtree(root / folder, ignore_errors=True)


def _render_all(root: Path, specs: list[ClipSpec], params: dict, workers: int) -> list[dict]:
    jobs = [(str(root), spec, params) for spec in specs]
    if workers <= 1:
        return [_render_one(job) for job in jobs]
    context = multiprocessing.get_context("spawn")  # no inherited threads, nothing to deadlock
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(_render_one, jobs, chunksize=16))


def _render_one(job: tuple) -> dict:
    """Render and save one clip; its split entry. Runs in a worker process."""
    root, spec, params = job
    audio = render(spec, params["clip_seconds"], params["sample_rate"], params["seed"])
    relative = layout.audio_path(spec)
    partial = Path(root) / (relative + ".partial")
    with partial.open("wb") as handle:
        np.save(handle, audio)
    os.replace(partial, Path(root) / relative)
    text_rng = np.random.default_rng([params["seed"], CAPTION_SALT, spec.index])
    return {"audio_id": spec.audio_id, "caption": captions(spec, text_rng),
            "audio_path": relative, "attributes": spec.attributes(), "details": spec.to_json()}  # fmt: skip
