"""Runs read back from their folders: the config each ran with, and how it ended.

A run folder holds `.hydra/config.yaml` (as composed, interpolations kept) and/or
`config.yaml` (resolved, written by the task), then `metrics.json` once it finished or
`failed.json` when it failed inside a sweep (muscall.runs.sweep).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from muscall.errors import MuscallError
from muscall.runs.sweep import FAILED_FILE

# Never runs themselves, and large: not searched.
SKIPPED_FOLDERS = {".hydra", "checkpoints", "plots", "wandb", "__pycache__"}
# Where a run was written, not how it ran.
IGNORED_PREFIXES = ("paths.", "hydra.")
RUN_FOLDER = "<run>"


@dataclass
class RunFolder:
    name: str  # the folder, relative to the root searched
    config: dict[str, Any]  # flattened: {"model.optimizer.lr": 1e-4, ...}
    metrics: dict[str, Any] | None  # None: no metrics.json
    error: str | None  # failed.json's error, when the run failed in a sweep

    @property
    def status(self) -> str:
        if self.metrics is not None:
            return "finished"
        return f"failed ({self.error.split(':')[0]})" if self.error else "unfinished"


def find_runs(root: Path) -> list[RunFolder]:
    """Every run folder under `root` (or `root` itself), in path order."""
    if not root.is_dir():
        raise MuscallError(f"root={root}: not a folder of runs")
    return [read_run(folder, root) for folder in sorted(_run_folders(root))]


def _run_folders(root: Path) -> Iterator[Path]:
    for folder, children, _ in os.walk(root):
        path = Path(folder)
        if _config_file(path) is not None:
            children.clear()  # runs do not nest
            yield path
        else:
            children[:] = sorted(c for c in children if c not in SKIPPED_FOLDERS)


def _config_file(folder: Path) -> Path | None:
    """The config as composed when Hydra saved it (a derived value shows once), else resolved."""
    for path in (folder / ".hydra" / "config.yaml", folder / "config.yaml"):
        if path.is_file():
            return path
    return None


def read_run(folder: Path, root: Path) -> RunFolder:
    config = OmegaConf.to_container(OmegaConf.load(_config_file(folder)), resolve=False)
    flat = flatten(config)
    # Paths inside the run's own folder differ between any two runs: say so once.
    own = {str(flat.get("paths.output_dir")), str(folder.resolve())} - {"None"}
    flat = {
        key: _relative(value, own)
        for key, value in flat.items()
        if not key.startswith(IGNORED_PREFIXES)
    }
    metrics = _read_json(folder / "metrics.json")
    failed = _read_json(folder / FAILED_FILE)
    error = f"{failed.get('error')}: {failed.get('message')}" if failed else None
    name = str(folder.relative_to(root)) if folder != root else "."
    return RunFolder(name, flat, metrics, error)


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}; lists stay values."""
    if not isinstance(node, dict) or not node:
        return {prefix[:-1]: node} if prefix else {}
    flat = {}
    for key, value in node.items():
        flat.update(flatten(value, f"{prefix}{key}."))
    return flat


def _relative(value: Any, own: set[str]) -> Any:
    if isinstance(value, str):
        for path in own:
            value = value.replace(path, RUN_FOLDER)
    return value


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
