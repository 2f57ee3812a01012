"""task=zeroshot: classification and tagging of labelled sets by text prompts."""

from __future__ import annotations

from omegaconf import DictConfig

from muscall.errors import MuscallError
from muscall.report import format_table, write_metrics
from muscall.tasks import components, evaluation


def run(cfg: DictConfig) -> dict[str, float]:
    ckpt_path = components.require_checkpoint(cfg, "zeroshot")
    sets = components.zeroshot_sets(cfg)
    if not sets:
        raise MuscallError(
            "zeroshot.sets: no labelled set file found; prepare one (task=prepare "
            "dataset=gtzan) and pick it (zeroshot=gtzan), or give one, e.g. "
            "zeroshot.sets='{mine: /path/to/set.json}'"
        )
    out = components.start_run(cfg)
    metrics = evaluation.zeroshot(evaluation.open_checkpoint(cfg, ckpt_path, sets))
    write_metrics(metrics, out)
    print(format_table(metrics, f"task=zeroshot -> {out}"))
    return metrics
