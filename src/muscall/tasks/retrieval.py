"""task=retrieval: text-to-music and music-to-text retrieval of a checkpoint on a split."""

from __future__ import annotations

from omegaconf import DictConfig

from muscall.report import format_table, write_metrics
from muscall.runs import evaluation
from muscall.runs.assembly import start_run


def run(cfg: DictConfig) -> dict[str, float]:
    ckpt_path = evaluation.require_checkpoint(cfg, "retrieval")
    out = start_run(cfg)
    opened = evaluation.open_checkpoint(cfg, ckpt_path)
    split = cfg.split
    metrics = evaluation.retrieval(opened, split, evaluation.plots_folder(cfg))
    write_metrics(metrics, out)
    print(format_table(metrics, f"task=retrieval split={split} -> {out}"))
    return metrics
