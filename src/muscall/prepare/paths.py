"""Paths named by a dataset's own files, kept inside that dataset's folder."""

from __future__ import annotations

from pathlib import Path

from muscall.errors import DatasetError


def inside(root: Path, relative: str | Path, what: str) -> Path:
    """`root / relative`, refused when it is absolute or leads out of `root` (`..`, symlinks).

    `what` names the file and entry that gave the path, for the error message.
    """
    relative = Path(relative)
    if relative.is_absolute():
        raise DatasetError(
            f"{what}: absolute path {relative} refused; paths are relative to {root}"
        )
    root = root.resolve()
    candidate = (root / relative).resolve()
    if candidate != root and root not in candidate.parents:
        raise DatasetError(f"{what}: path {relative} leads outside {root}; refused")
    return candidate
