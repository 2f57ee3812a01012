"""Building and updating a library index: embed only what is new or changed, keep the rest.

A file whose size and mtime are unchanged keeps its entry without being read. Otherwise its
SHA-256 decides: content already in the index (a touched, moved or copied file) reuses that
embedding; new content is decoded and embedded. Files that failed before are tried again
only once they change. Progress is saved every `save_every_seconds` and on Ctrl-C, so an
interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from muscall.errors import MuscallError
from muscall.library import store
from muscall.library.index import Entry, LibraryIndex
from muscall.library.walk import FoundFile, Skipped, walk_library
from muscall.pretrained import model_reference

log = logging.getLogger(__name__)

HASH_CHUNK = 1 << 20


@dataclass
class Update:
    """What one task=index run did; `rows` maps path -> (entry, embedding) as it goes."""

    rows: dict[str, tuple[Entry, np.ndarray]] = field(default_factory=dict)
    to_embed: list[tuple[FoundFile, str]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    embedded: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: int = 0
    reused: int = 0
    rebuilt: bool = False


def update_index(
    model,
    source: Path,
    index_dir: Path,
    workers: int | None = None,
    batch_size: int = 16,
    progress: bool = True,
    save_every_seconds: float = 60.0,
) -> tuple[LibraryIndex, Update]:
    """Bring the index in `index_dir` up to date with the audio under `source`."""
    root = source.resolve()
    _refuse_foreign_folder(index_dir)
    with store.writing(index_dir):
        old, rebuilt = _previous(index_dir, root, model)
        walk = walk_library(root, exclude=index_dir)
        update = plan_update(old, root, walk, workers, progress)
        update.rebuilt = rebuilt
        created = old.meta.get("created") if old else None
        save = _saver(model, root, index_dir, update, created)
        embed_new(model, root, update, workers, batch_size, progress, save, save_every_seconds)
        return save(complete=True), update


def plan_update(
    old: LibraryIndex | None, root: Path, walk, workers: int | None, progress: bool
) -> Update:
    """Sort every found file into kept, reused, skipped again or to be embedded."""
    update = Update(skipped=list(walk.skipped))
    old_rows = {e.path: i for i, e in enumerate(old.entries)} if old else {}
    old_failed = {s.path: s for s in old.skipped if s.size is not None} if old else {}
    by_hash = {e.sha256: i for i, e in enumerate(old.entries)} if old else {}
    unsure = []
    for found in walk.files:
        row = old_rows.get(found.path)
        if row is not None and _same_file(old.entries[row], found):
            update.rows[found.path] = (old.entries[row], old.embeddings[row])
            update.kept += 1
        elif found.path in old_failed and _same_file(old_failed[found.path], found):
            update.skipped.append(old_failed[found.path])
        else:
            unsure.append(found)
    for found, digest in zip(unsure, hash_files(root, unsure, workers, progress), strict=True):
        if digest.startswith("error:"):
            update.skipped.append(Skipped(found.path, digest[6:], found.size, found.mtime))
        elif digest in by_hash:
            row = by_hash[digest]
            entry = Entry(found.path, old.entries[row].duration, found.size, found.mtime, digest)
            update.rows[found.path] = (entry, old.embeddings[row])
            update.reused += 1
        else:
            update.to_embed.append((found, digest))
    found_paths = {f.path for f in walk.files}
    update.removed = [path for path in old_rows if path not in found_paths]
    return update


def embed_new(model, root, update, workers, batch_size, progress, save, save_every_seconds):
    """Embed `update.to_embed` in the model's decoding workers, saving now and then."""
    if not update.to_embed:
        return
    paths = [root / found.path for found, _ in update.to_embed]
    results = model.stream_audio(paths, num_workers=workers, batch_size=batch_size)
    last_save, unsaved = time.monotonic(), 0
    try:
        for result in _progress(results, len(paths), progress, "embedding audio"):
            found, digest = update.to_embed[result.position]
            unsaved += 1
            if result.error is not None:
                log.warning("skipping %s", result.error)
                reason = result.error.removeprefix(f"{root / found.path}: ")  # the path is the key
                update.skipped.append(Skipped(found.path, reason, found.size, found.mtime))
            else:
                duration = float(result.duration or 0.0)
                entry = Entry(found.path, duration, found.size, found.mtime, digest)
                update.rows[found.path] = (entry, np.asarray(result.embedding, np.float32))
                update.embedded.append(found.path)
            if time.monotonic() - last_save >= save_every_seconds:
                save(complete=False)
                last_save, unsaved = time.monotonic(), 0
    except BaseException:
        if unsaved:
            log.warning("interrupted: saving the %d tracks embedded so far", len(update.rows))
            save(complete=False)
        raise


def hash_files(
    root: Path, files: list[FoundFile], workers: int | None, progress: bool
) -> list[str]:
    """The SHA-256 of each file, or "error: <why>"; file reads overlap in threads."""
    threads = max(1, min(8, workers or os.cpu_count() or 1))
    with ThreadPoolExecutor(threads) as pool:
        digests = pool.map(lambda found: _sha256(root / found.path), files)
        return list(_progress(digests, len(files), progress and len(files) > 0, "hashing"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(HASH_CHUNK):
                digest.update(chunk)
    except OSError as error:
        return f"error:{path}: cannot read ({error.strerror or error})"
    return digest.hexdigest()


def _same_file(known: Entry | Skipped, found: FoundFile) -> bool:
    return known.size == found.size and known.mtime == found.mtime


def _saver(model, root: Path, index_dir: Path, update: Update, created: str | None):
    """save(complete) -> the index of `update.rows` so far, written as a new generation."""

    def save(complete: bool) -> LibraryIndex:
        paths = sorted(update.rows)
        rows = [update.rows[p] for p in paths]
        embeddings = np.stack([emb for _, emb in rows]) if rows else np.zeros((0, model.embed_dim))
        index = LibraryIndex(
            root=root,
            model_source=model_reference(model.source),
            model_fingerprint=model.fingerprint,
            embed_dim=model.embed_dim,
            entries=[entry for entry, _ in rows],
            embeddings=embeddings.astype(np.float32),
            skipped=sorted(update.skipped, key=lambda s: s.path),
            meta={"created": created} if created else {},
            tags=model.tags,
        )
        index.save(index_dir, complete, datetime.now(timezone.utc).isoformat(timespec="seconds"))
        return index

    return save


def _previous(index_dir: Path, root: Path, model) -> tuple[LibraryIndex | None, bool]:
    """The index to update (None: start afresh) and whether the model changed."""
    if not (index_dir / store.META_FILE).exists():
        return None, False
    try:
        old = LibraryIndex.load(index_dir)
    except MuscallError as error:
        log.warning("%s -- building the index afresh", error)
        return None, False
    if old.root != root:
        raise MuscallError(
            f"index={index_dir}: indexes {old.root}, not {root}; give this folder its own index="
        )
    if old.model_fingerprint != model.fingerprint:
        log.warning(
            "index=%s was built by another model (%s): re-embedding every file",
            index_dir,
            old.model_source,
        )
        return None, True
    return old, False


def _refuse_foreign_folder(index_dir: Path) -> None:
    """Never write into a folder of the user's that is not an index."""
    if not index_dir.is_dir() or (index_dir / store.META_FILE).exists():
        return
    if any(not p.name.startswith((".", "gen-")) for p in index_dir.iterdir()):
        raise MuscallError(f"index={index_dir}: folder exists and is not a library index")


def _progress(iterable, total: int, enabled: bool, desc: str):
    if not enabled:
        return iterable
    from tqdm import tqdm

    # disable=None: off when stderr is not a terminal (a log file, a CI job).
    return tqdm(iterable, total=total, desc=desc, unit="file", mininterval=1.0, disable=None)
