"""task=zeroshot: classification and tagging of labelled sets by text prompts."""

from __future__ import annotations

from omegaconf import DictConfig

from muscall.data.zeroshot_sets import ZeroShotSets
from muscall.errors import MuscallError
from muscall.report import format_table, write_metrics
from muscall.runs import evaluation
from muscall.runs.assembly import start_run


def run(cfg: DictConfig) -> dict[str, float]:
    ckpt_path = evaluation.require_checkpoint(cfg, "zeroshot")
    sets = ZeroShotSets.from_config(cfg.zeroshot)
    if not sets:
        raise MuscallError(
            "zeroshot.sets: no labelled set file found; prepare one (task=prepare "
            "dataset=gtzan) and pick it (zeroshot=gtzan), or give one, e.g. "
            "zeroshot.sets='{mine: /path/to/set.json}'"
        )
    out = start_run(cfg)
    opened = evaluation.open_checkpoint(cfg, ckpt_path, sets)
    metrics = evaluation.zeroshot(opened, evaluation.plots_folder(cfg))
    write_metrics(metrics, out)
    print(format_table(metrics, f"task=zeroshot -> {out}"))
    return metrics
