"""task=compare: runs side by side, the config keys that differ and their final metrics."""

from __future__ import annotations

import csv
import io
import logging
import math
from collections import Counter
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from muscall.errors import MuscallError
from muscall.runs.assembly import start_run
from muscall.runs.folders import RunFolder, find_runs

log = logging.getLogger(__name__)
MISSING = object()  # a key one run's config does not have


def run(cfg: DictConfig) -> dict[str, float]:
    root = Path(str(cfg.root)).expanduser().resolve()
    runs = [r for r in find_runs(root) if _selected(r, cfg.task.runs_of)]
    if not runs:
        only = f" of task={cfg.task.runs_of}" if cfg.task.runs_of else ""
        raise MuscallError(f"root={root}: no runs{only} found (folders with config.yaml)")
    sort = cfg.task.sort or _most_common(runs, "task.optimized_metric")
    descending = _descending(cfg.task.order, sort, runs)
    runs = sort_runs(runs, sort, descending)
    keys = differing_keys(runs)
    header, rows = table(runs, keys, metric_columns(runs, sort, cfg.task.metrics))
    out = start_run(cfg)
    order = f", sorted by {sort} ({'highest' if descending else 'lowest'} first)" if sort else ""
    title = f"{len(runs)} runs under {root}{order}"
    errors = [f"{r.name}: {r.error}" for r in runs if r.error]
    _write_csv(out / "compare.csv", header, rows)
    failed = "".join(f"\n- {e}" for e in errors)
    failed = f"\nFailed runs:\n{failed}\n" if failed else ""
    md = f"{title}\n\n{markdown(header, rows)}\n{failed}"
    (out / "compare.md").write_text(md, encoding="utf-8")
    print("\n".join([title, text_table(header, rows), *errors]))
    print(f"task=compare -> {out}/compare.csv, compare.md")
    counts = Counter(r.status.split(" ")[0] for r in runs)
    return {"runs": float(len(runs)), **{k: float(counts[k]) for k in ("finished", "failed")}}


def _selected(run: RunFolder, runs_of: str | None) -> bool:
    task = run.config.get("task.name")
    return task != "compare" and (not runs_of or task == runs_of)


def _most_common(runs: list[RunFolder], key: str) -> str | None:
    values = Counter(r.config.get(key) for r in runs if r.config.get(key))
    return values.most_common(1)[0][0] if values else None


def _descending(order: str | None, sort: str | None, runs: list[RunFolder]) -> bool:
    """task.order, else the runs' own direction for their metric, else highest first."""
    if order not in (None, "max", "min"):
        raise MuscallError(f"task.order={order}: use max, min or null")
    if order is None and sort == _most_common(runs, "task.optimized_metric"):
        order = _most_common(runs, "task.optimized_mode")
    return order != "min"


def sort_runs(runs: list[RunFolder], metric: str | None, descending: bool) -> list[RunFolder]:
    """Runs with a value first, best first; then runs without one, failed ones last; by name."""

    def rank(run: RunFolder) -> tuple:
        value = _number((run.metrics or {}).get(metric)) if metric else None
        if value is None or math.isnan(value):
            return (1 if run.metrics is not None else 2, 0.0, run.name)
        return (0, -value if descending else value, run.name)

    return sorted(runs, key=rank)


def differing_keys(runs: list[RunFolder]) -> list[str]:
    """Config keys whose value is not the same in every run that ran, in config order.

    Unfinished runs (often a command that stopped at a config mistake) are listed but add no
    columns, unless no run finished or failed.
    """
    ran = [r for r in runs if r.status != "unfinished"] or runs
    keys = dict.fromkeys(k for r in ran for k in r.config)
    return [k for k in keys if len({repr(r.config.get(k, MISSING)) for r in ran}) > 1]


def metric_columns(runs: list[RunFolder], sort: str | None, wanted) -> list[str]:
    """The sort metric, then task.metrics (null: every metric), those some run has."""
    present = dict.fromkeys(k for r in runs for k in (r.metrics or {}))
    chosen = [sort] if sort else []
    chosen += sorted(present) if wanted is None else [str(m) for m in wanted]
    missing = [m for m in dict.fromkeys(chosen) if m not in present]
    if missing:
        log.info("no run has these metrics: %s", ", ".join(missing))
    return [m for m in dict.fromkeys(chosen) if m in present and m != "best_checkpoint"]


def table(runs: list[RunFolder], keys: list[str], metrics: list[str]):
    """The header and one row of raw values per run: run, status, keys, metrics."""
    header = ["run", "status", *keys, *metrics]
    rows = [
        [
            r.name,
            r.status,
            *(r.config.get(k, MISSING) for k in keys),
            *((r.metrics or {}).get(m, MISSING) for m in metrics),
        ]
        for r in runs
    ]
    return header, rows


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _shown(value: Any) -> str:
    if value is MISSING or value is None:
        return "-" if value is MISSING else "null"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def text_table(header: list[str], rows: list[list]) -> str:
    cells = [header, *([_shown(v) for v in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def markdown(header: list[str], rows: list[list]) -> str:
    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    shown = [line([_shown(v) for v in row]) for row in rows]
    return "\n".join([line(header), line(["---"] * len(header)), *shown])


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    """Full precision; a key a run lacks is an empty cell."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows([["" if v is MISSING else v for v in row] for row in rows])
    path.write_text(text.getvalue(), encoding="utf-8")
