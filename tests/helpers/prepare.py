"""task=prepare on a download, as several test folders run it."""

from __future__ import annotations

import json
from pathlib import Path

from muscall.config import compose_config
from muscall.prepare.writers import REPORT_FILE
from muscall.tasks import prepare


def run_prepare(
    out: Path, dataset: str, source: Path, target: Path, *extra: str, workers: int = 2
) -> dict:
    """task=prepare of `dataset` from `source` into `target`; returns the report written there."""
    overrides = ["task=prepare", f"dataset={dataset}", f"source={source}", f"target={target}"]
    overrides += [f"workers={workers}", "task.progress=false", *extra]
    prepare.run(compose_config(overrides, out))
    return json.loads((target / REPORT_FILE).read_text())
