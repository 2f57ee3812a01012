"""Results on screen and on disk: one table, one `metrics.json` per run."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path


def write_metrics(metrics: Mapping[str, float], output_dir: str | Path) -> Path:
    """Write `metrics.json` (NaN becomes null, so the file stays valid JSON)."""
    path = Path(output_dir) / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metrics.items()}
    path.write_text(json.dumps(clean, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


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
