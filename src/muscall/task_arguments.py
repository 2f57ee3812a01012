"""Task arguments once spelled under `task.`: the former spelling still works, with a notice.

What a user types for a task is a root key declared in that task's own file
(conf/task/<name>.yaml); `task.` holds the knobs rarely typed. The keys below moved from one
to the other, and a command line that still spells them the old way is read the new way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

log = logging.getLogger("muscall")

# former spelling -> root key (task=shard's out; the decoding tasks' workers;
# task=retrieval's split; task=search's k)
MOVED = {"task.out": "out", "task.workers": "workers", "task.split": "split", "task.k": "k"}

# An override's optional prefix (+, ++, ~), its key, then `=` and the value or nothing.
_OVERRIDE = re.compile(r"^(\+\+|\+|~)?([^=\s]+)(=.*)?$", re.S)


def upgrade_overrides(overrides: Sequence[str]) -> list[str]:
    """`task.out=DIR` -> `out=DIR`, and likewise for every key of MOVED, each with one notice."""
    return [_upgrade(override) for override in overrides]


def _upgrade(override: str) -> str:
    match = _OVERRIDE.match(override)
    if match is None or match.group(2) not in MOVED:
        return override
    prefix, key, rest = match.group(1) or "", match.group(2), match.group(3) or ""
    new = f"{prefix}{MOVED[key]}{rest}"
    log.warning("%s is now %s=: read %s as %s", key, MOVED[key], override, new)
    return new
