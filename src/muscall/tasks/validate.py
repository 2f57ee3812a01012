"""task=validate: check a whole dataset before training on it, and report every problem."""

from __future__ import annotations

import os
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig

from muscall.data.caption_lengths import report_folder
from muscall.data.captions import find_name
from muscall.data.json_io import write_json
from muscall.data.validation import validate_dataset
from muscall.errors import DatasetError
from muscall.runs.assembly import start_run


def run(cfg: DictConfig) -> dict[str, float]:
    """Read every split and labelled set, decode every audio file once; print and save a report.

    A report, not a gate: problems are counted in the metrics and `validation.json`, and the
    command succeeds; only a config it cannot act on (no dataset folder, ...) is an error.
    """
    root = Path(cfg.data.root).expanduser().resolve()
    name = find_name(root, cfg.data.get("name"))
    workers = cfg.workers if cfg.workers is not None else os.cpu_count() or 1
    if workers < 0 or cfg.task.examples < 0:
        raise DatasetError("workers and task.examples must be 0 or more")
    sets = dict(cfg.zeroshot.get("sets") or {})
    out = start_run(cfg)
    report = validate_dataset(root, name, sets, cfg.data.npy_sample_rate, workers)
    path = write_json(out / "validation.json", report.as_json())
    print(report.format(cfg.task.examples, cfg.data.sample_rate))
    print(f"task=validate -> {path}")
    # The captions against the model's tokenizer: how many it would cut (docs/captions.md).
    tokenizer = instantiate(cfg.model.net.tokenizer)
    report_folder(root, name, tokenizer, cfg.captions.warn_truncated, out)
    metrics = {
        "problems": float(len(report.problems)),
        "items": float(report.items),
        "audio_files": float(report.audio_files),
    }
    metrics.update({f"problems/{kind}": float(n) for kind, n in report.counts().items()})
    return metrics
