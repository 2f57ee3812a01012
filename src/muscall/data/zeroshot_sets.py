"""The zero-shot sets of a run: chosen by the `zeroshot` config group, resolved, checked and
read here, and nowhere else.

`zeroshot.sets` maps a name to a labelled set file (conf/zeroshot/: the dataset's own sets by
default, `zeroshot=gtzan`, `zeroshot=[gtzan,mtt]`, or `zeroshot.sets='{name: path}'`). A set
whose file is missing is reported and skipped, so a run never dies on a benchmark that was
not prepared. A set's audio paths never leave its dataset folder (see muscall.data.labelled).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path

from omegaconf import DictConfig

from muscall.data.labelled import LabelledSet, read_labelled_set
from muscall.errors import DatasetError

log = logging.getLogger(__name__)


class ZeroShotSets:
    """Named labelled set files, each read once when first asked for."""

    def __init__(self, paths: Mapping[str, str | Path] | None = None):
        self.paths = {name: Path(path).expanduser() for name, path in (paths or {}).items()}
        self._read: dict[str, LabelledSet] = {}

    @classmethod
    def from_config(cls, zeroshot: DictConfig) -> ZeroShotSets:
        """The configured sets whose files exist; a missing one is reported and skipped."""
        found = {}
        for name, path in (zeroshot.get("sets") or {}).items():
            if Path(path).expanduser().is_file():
                found[name] = path
            else:
                log.warning("zero-shot set %r skipped: %s not found", name, path)
        return cls(found)

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, name: str) -> LabelledSet:
        if name not in self.paths:
            known = ", ".join(self.paths) or "none"
            raise DatasetError(f"zeroshot.sets: no set named {name!r} (known: {known})")
        if name not in self._read:
            self._read[name] = read_labelled_set(self.paths[name], name)
        return self._read[name]
