"""Leakage between training and evaluation data: the same audio on both sides of a split.

Compared by audio id, by resolved file path and by a content fingerprint (file size plus a
hash of its first and last 64 KiB), so a copy under another name or id is caught without
reading whole files: fingerprinting a 25,000-clip dataset takes seconds.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from muscall.data.labelled import LabelledSet

log = logging.getLogger(__name__)

_EDGE = 64 * 1024


def fingerprint(path: Path) -> str | None:
    """Size and a hash of the file's ends; None for a file that cannot be read."""
    try:
        size = path.stat().st_size
        digest = hashlib.blake2b(str(size).encode(), digest_size=16)
        with path.open("rb") as handle:
            digest.update(handle.read(_EDGE))
            if size > 2 * _EDGE:
                handle.seek(size - _EDGE)
                digest.update(handle.read(_EDGE))
        return digest.hexdigest()
    except OSError:
        return None


def _keys(items: Iterable[tuple[str | None, Path]]) -> list[set[str]]:
    rows = []
    for audio_id, path in items:
        keys = {f"path:{path.resolve()}"}
        if audio_id is not None:
            keys.add(f"id:{audio_id}")
        content = fingerprint(path)
        if content is not None:
            keys.add(f"content:{content}")
        rows.append(keys)
    return rows


def shared_with_training(
    train: Iterable[tuple[str | None, Path]],
    evaluation: Mapping[str, Iterable[tuple[str | None, Path]]],
) -> dict[str, int]:
    """For each evaluation set, how many of its items share an id, file or content with train."""
    seen = set().union(*_keys(train))
    return {
        name: sum(bool(keys & seen) for keys in _keys(items)) for name, items in evaluation.items()
    }


def warn_on_leakage(
    datamodule, zeroshot_sets: Mapping[str, LabelledSet], splits: Iterable[str] = ("val", "test")
) -> dict[str, int]:
    """Log a warning per evaluation set (split or zero-shot set) that shares audio with train."""
    train = [(t.audio_id, t.audio_path) for t in datamodule.tracks("train")]
    evaluation = {
        split: [(t.audio_id, t.audio_path) for t in datamodule.tracks(split)]
        for split in splits
        if datamodule.has_split(split)
    }
    for name in zeroshot_sets:
        labelled = zeroshot_sets[name]
        evaluation[f"zero-shot set {name}"] = [(None, p) for p in labelled.audio_paths]
    shared = shared_with_training(train, evaluation)
    for name, count in shared.items():
        if count:
            total = len(evaluation[name])
            log.warning(
                "leakage: %d of %d items of %s share audio with the training split "
                "(same id, file or content); their scores overstate the model",
                count,
                total,
                name,
            )
    return shared
