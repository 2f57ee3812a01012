"""Files written whole or not at all, so a kill during a save never breaks the file it replaces.

Each write goes to a hidden temporary file beside the target, is flushed and fsynced, then
renamed over the target (a rename within one folder is atomic); the folder is fsynced so the
rename itself survives a crash. A kill leaves the old file and, at worst, a `.partial-*` file.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

PARTIAL_PREFIX = ".partial-"


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path to write; once the block ends without error it replaces `path`.

    The temporary name keeps the suffix (so writers that go by it, e.g. matplotlib, still
    work) and never contains the target's name, so no glob for the target matches it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{PARTIAL_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        yield temporary
        fsync_file(temporary)
        os.replace(temporary, path)
        fsync_folder(path.parent)
    finally:
        temporary.unlink(missing_ok=True)


def write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
