"""Audio paths named by a dataset's files, kept inside the dataset's folder.

A split or labelled-set file is data, not code: a path it names is never absolute, never
leads out of its dataset folder with `..`, and is never a symlink to a file outside it. Such
a path is refused before anything opens it (resolving a link reads the link, not its target).
The dataset folder itself may be a symlink: it is resolved first.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath


class OutsideFolder(ValueError):
    """A path that would leave its dataset folder; the message says how."""


def resolve_inside(root: Path, relative: object, base: Path | None = None) -> Path:
    """`base / relative` resolved (`base` defaults to `root`), refused when it leaves `root`.

    Raises OutsideFolder when `relative` is absolute, or `..` or a symlink leads out of `root`;
    TypeError when it is not a non-empty string.
    """
    if not isinstance(relative, str) or not relative.strip():
        raise TypeError(f"audio_path must be a non-empty string, got {relative!r}")
    if PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).anchor:
        raise OutsideFolder(f"audio_path {relative!r} is absolute; paths are relative to {root}")
    root = root.resolve()
    base = root if base is None else base.resolve()
    lexical = Path(os.path.normpath(base / relative))
    if not _within(lexical, root):
        raise OutsideFolder(f"audio_path {relative!r} leads out of {root} ('..'); not opened")
    real = lexical.resolve()
    if not _within(real, root):
        raise OutsideFolder(
            f"audio_path {relative!r} is a symlink to {real}, outside {root}; not opened"
        )
    return real


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
