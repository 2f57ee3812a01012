"""Finding a library's audio files: nested folders, in sorted order, never outside the root."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from muscall.audio.formats import is_audio_file


@dataclass(frozen=True)
class FoundFile:
    """An audio file of the library: `path` is POSIX and relative to the root."""

    path: str
    size: int
    mtime: float


@dataclass(frozen=True)
class Skipped:
    """A file left out of the index and why; size and mtime say when to try it again."""

    path: str
    reason: str
    size: int | None = None
    mtime: float | None = None


@dataclass
class Walk:
    files: list[FoundFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def is_audio(name: str) -> bool:
    """Every suffix the reading layer reads, as every task finds files (case-insensitive)."""
    return is_audio_file(name)


def walk_library(root: Path, exclude: Path | None = None) -> Walk:
    """Every audio file under `root` (resolved), sorted by path.

    Hidden files and folders are left out silently. A symlink is followed only when its
    target lies inside the root; one pointing outside (or nowhere) is listed as skipped.
    """
    root = root.resolve()
    excluded = exclude.resolve() if exclude is not None else None
    walk = Walk()
    visited = {root}  # real folders already walked: a symlink loop stops here
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            children = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as error:
            walk.skipped.append(Skipped(_relative(Path(folder), root), f"cannot list ({error})"))
            continue
        for child in children:
            path = Path(child.path)
            if child.name.startswith(".") or path == excluded:
                continue
            _visit(child, path, root, excluded, visited, pending, walk)
    walk.files.sort(key=lambda f: f.path)
    walk.skipped.sort(key=lambda s: s.path)
    return walk


def _visit(child, path, root, excluded, visited, pending, walk) -> None:
    relative = _relative(path, root)
    try:
        is_dir = child.is_dir()  # follows a symlink
    except OSError:
        is_dir = False
    if child.is_symlink():
        if not is_dir and not is_audio(child.name):
            return
        target = path.resolve()
        if not target.exists():
            walk.skipped.append(Skipped(relative, f"broken symlink (to {os.readlink(path)})"))
            return
        if not target.is_relative_to(root) or target == excluded:
            walk.skipped.append(Skipped(relative, "symlink points outside the indexed folder"))
            return
    if is_dir:
        real = path.resolve()
        if real not in visited:
            visited.add(real)
            pending.append(path)
        return
    if not is_audio(child.name):
        return
    try:
        stat = child.stat()  # of the target, for a symlink
    except OSError as error:
        walk.skipped.append(Skipped(relative, f"cannot stat ({error.strerror or error})"))
        return
    walk.files.append(FoundFile(relative, stat.st_size, stat.st_mtime))


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
