"""The on-disk format of a library index, written so that a kill never leaves it broken.

    <index>/meta.json           what the index is, and which generation holds its data
    <index>/gen-000007/         one generation: embeddings.npy (N, D) float32,
                                entries.jsonl (one Entry a line, row i = embedding i),
                                skipped.jsonl (files left out, with the reason)

A save writes a whole new generation folder (each file fsynced), then replaces meta.json
atomically: a reader sees the old generation or the new one, never half of either. The
previous live generation is kept for readers that loaded the old meta.json a moment ago.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from muscall.atomic import fsync_folder
from muscall.atomic import write_bytes as write_atomic
from muscall.errors import MuscallError

FORMAT_VERSION = 1
META_FILE = "meta.json"
REQUIRED_META = ("generation", "root", "model_fingerprint", "embed_dim", "num_entries", "files")


def jsonl_bytes(rows: list[dict]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array, dtype=np.float32))
    return buffer.getvalue()


def generation_dir(index_dir: Path, generation: int) -> Path:
    return index_dir / f"gen-{generation:06d}"


def latest_generation(index_dir: Path) -> int:
    """The highest generation in `index_dir`, live or left by a killed save; 0 if none."""
    numbers = [0]
    for folder in index_dir.glob("gen-*"):
        number = folder.name.removeprefix("gen-")
        numbers.extend([int(number)] if number.isdigit() else [])
    return max(numbers)


def save_generation(index_dir: Path, meta: dict, files: dict[str, bytes]) -> dict:
    """Write `files` as generation meta["generation"], then switch meta.json to it."""
    folder = generation_dir(index_dir, meta["generation"])
    shutil.rmtree(folder, ignore_errors=True)  # the leftover of a save that was killed
    folder.mkdir(parents=True)
    for name, data in files.items():
        with open(folder / name, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    fsync_folder(folder)
    meta = {**meta, "files": {name: len(data) for name, data in files.items()}}
    previous = live_generation(index_dir)
    write_atomic(index_dir / META_FILE, (json.dumps(meta, indent=2) + "\n").encode())
    _drop_generations(index_dir, keep={meta["generation"], previous})
    return meta


def live_generation(index_dir: Path) -> int | None:
    """The generation meta.json names now, if it can be read."""
    try:
        return int(json.loads((index_dir / META_FILE).read_text())["generation"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_meta(index_dir: Path) -> dict:
    path = index_dir / META_FILE
    if not path.is_file():
        raise MuscallError(f"index={index_dir}: no library index there (build one with task=index)")
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise MuscallError(
            f"{path}: unreadable index metadata ({error}); re-run task=index"
        ) from error
    found = meta.get("format_version") if isinstance(meta, dict) else None
    if not isinstance(found, int):
        raise MuscallError(f"{path}: not a muscall library index (no format_version)")
    missing = [key for key in REQUIRED_META if key not in meta]
    if missing:
        raise MuscallError(f"{path}: index metadata lacks {', '.join(missing)}; re-run task=index")
    if found > FORMAT_VERSION:
        raise MuscallError(
            f"{path}: index format {found} is newer than this muscall reads ({FORMAT_VERSION}); "
            "upgrade muscall or rebuild the index"
        )
    return meta


def read_generation(index_dir: Path, meta: dict) -> tuple[np.ndarray, list[dict], list[dict]]:
    """Embeddings, entry rows and skipped rows of the generation `meta` names, checked."""
    folder = generation_dir(index_dir, meta["generation"])
    for name, expected in meta["files"].items():
        path = folder / name
        size = path.stat().st_size if path.is_file() else None
        if size != expected:
            raise MuscallError(
                f"{path}: {'missing' if size is None else f'{size} bytes'} where the index "
                f"recorded {expected}: the index is damaged; re-run task=index"
            )
    try:
        embeddings = np.load(folder / "embeddings.npy", allow_pickle=False)
        entries = _read_jsonl(folder / "entries.jsonl")
        skipped = _read_jsonl(folder / "skipped.jsonl")
    except (OSError, ValueError) as error:
        raise MuscallError(
            f"{folder}: unreadable index data ({error}); re-run task=index"
        ) from error
    shape = (meta["num_entries"], meta["embed_dim"])
    if embeddings.dtype != np.float32 or embeddings.shape != shape or len(entries) != shape[0]:
        raise MuscallError(
            f"{folder}: embeddings {embeddings.dtype} {embeddings.shape} and {len(entries)} "
            f"entries do not match the index metadata {shape}; re-run task=index"
        )
    return embeddings, entries, skipped


@contextlib.contextmanager
def writing(index_dir: Path) -> Iterator[None]:
    """Hold the index's lock: one writer at a time (readers need none)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise MuscallError(f"index={index_dir}: another task=index is writing it") from error
        yield


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _drop_generations(index_dir: Path, keep: set[int | None]) -> None:
    for folder in index_dir.glob("gen-*"):
        number = folder.name.removeprefix("gen-")
        if number.isdigit() and int(number) not in keep:
            shutil.rmtree(folder, ignore_errors=True)
