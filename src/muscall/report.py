"""Results on screen and on disk: one table, one `metrics.json` per run."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

from muscall.atomic import write_text


def write_metrics(metrics: Mapping[str, float], output_dir: str | Path) -> Path:
    """Write `metrics.json`, whole or not at all (NaN becomes null: the file stays valid JSON)."""
    clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metrics.items()}
    text = json.dumps(clean, indent=2, sort_keys=True) + "\n"
    return write_text(Path(output_dir) / "metrics.json", text)


def format_table(metrics: Mapping[str, float], title: str = "results") -> str:
    """A two-column text table, metrics grouped by their prefix."""
    if not metrics:
        return f"{title}: (no metrics)"
    width = max(len(k) for k in metrics)
    lines = [title, "-" * (width + 12)]
    for key in sorted(metrics):
        value = metrics[key]
        shown = f"{value:10.3f}" if isinstance(value, float | int) else f"{value!s:>10}"
        lines.append(f"{key:<{width}}  {shown}")
    return "\n".join(lines)
