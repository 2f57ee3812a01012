"""task=prepare: a dataset as downloaded -> the project's layout, decoded once to 16 kHz FLAC."""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.utils import get_method, instantiate
from omegaconf import DictConfig

from muscall.config import CONFIG_DIR
from muscall.data.caption_lengths import as_json, report_folder
from muscall.errors import MuscallError
from muscall.prepare.convert import Decoder
from muscall.prepare.writers import write_report
from muscall.runs.assembly import start_run

log = logging.getLogger(__name__)

SHOWN_FAILURES = 20


def run(cfg: DictConfig) -> dict[str, float]:
    if cfg.get("dataset") is None:
        known = sorted(p.stem for p in (CONFIG_DIR / "dataset").glob("*.yaml"))
        raise MuscallError(f"dataset: choose one, e.g. dataset=gtzan (known: {', '.join(known)})")
    source = Path(cfg.source).expanduser().resolve()
    if not source.is_dir():
        raise MuscallError(f"source={cfg.source}: folder not found (the dataset as downloaded)")
    target = Path(cfg.target or Path(cfg.paths.data_dir) / cfg.dataset.name).expanduser().resolve()
    out = start_run(cfg)
    decoder = Decoder(target, cfg.task.sample_rate, cfg.workers, cfg.task.progress)
    report = get_method(cfg.dataset.prepare)(source, cfg.dataset, decoder)
    report = {"dataset": cfg.dataset.name, "source": str(source), "target": str(target), **report}
    # The written captions against the model's tokenizer: how many it would cut.
    tokenizer = instantiate(cfg.model.net.tokenizer)
    found = report_folder(target, cfg.dataset.name, tokenizer, cfg.captions.warn_truncated, out)
    if found:
        report["caption_lengths"] = as_json(found, tokenizer.limit_key)
    path = write_report(target, report)
    print(summary(report, path))
    counts = {f"{split}_items": float(n) for split, n in report.get("splits", {}).items()}
    return {**counts, "failed": float(len(report.get("failed", {})))}


def summary(report: dict, path: Path) -> str:
    """What was prepared, what was skipped and why: the end of every prepare run."""
    lines = [f"{report['dataset']} prepared in {report['target']}"]
    for split, count in report.get("splits", {}).items():
        lines.append(f"  {split}: {count} items")
    for key in ("converted", "reused", "missing", "uncaptioned"):
        if key in report:
            value = report[key]
            lines.append(f"  {key}: {len(value) if isinstance(value, list | dict) else value}")
    failed = report.get("failed", {})
    if failed:
        lines.append(f"  skipped {len(failed)} unusable file(s):")
        for item_id, why in list(failed.items())[:SHOWN_FAILURES]:
            lines.append(f"    {item_id}: {why['error']}")
        if len(failed) > SHOWN_FAILURES:
            lines.append(f"    ... and {len(failed) - SHOWN_FAILURES} more")
    bad_rows = report.get("bad_rows", [])
    if bad_rows:
        lines.append(f"  skipped {len(bad_rows)} bad row(s) of the index file:")
        for row in bad_rows[:SHOWN_FAILURES]:
            lines.append(f"    {row['file']} row {row['row']}: {row['error']}")
    lines.append(f"  full report: {path}")
    return "\n".join(lines)
