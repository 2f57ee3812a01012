"""task=zeroshot: classification and tagging of labelled sets by text prompts."""

from __future__ import annotations

from omegaconf import DictConfig

from muscall.errors import MuscallError
from muscall.evaluate.zeroshot import evaluate_sets
from muscall.report import format_table, write_metrics
from muscall.tasks import components


def run(cfg: DictConfig) -> dict[str, float]:
    net, device = components.load_for_eval(cfg, "zeroshot")
    sets = components.zeroshot_sets(cfg)
    if not sets:
        raise MuscallError(
            "zeroshot.sets: no labelled set file found; "
            "give one, e.g. zeroshot.sets='{mine: /path/to/set.json}'"
        )
    datamodule = components.build_datamodule(cfg, net.tokenizer, net.frontend.sample_rate, sets)
    metrics = evaluate_sets(net, datamodule, device, cfg.zeroshot.templates)
    out = components.output_dir(cfg)
    write_metrics(metrics, out)
    print(format_table(metrics, f"task=zeroshot -> {out}"))
    return metrics
