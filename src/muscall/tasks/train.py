"""task=train: fit, keep the best checkpoint by validation R@10, then test and zero-shot it."""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict

from muscall.evaluate.zeroshot import evaluate_sets
from muscall.report import format_table, write_metrics
from muscall.tasks import components

log = logging.getLogger(__name__)


def run(cfg: DictConfig) -> dict[str, float]:
    # Rendering first: whatever it draws must not shift the seeded run that follows.
    components.ensure_builtin_dataset(cfg.data)
    out = components.start_run(cfg)
    module = _build_module(cfg)
    datamodule = components.build_datamodule(
        cfg, module.net.tokenizer, zeroshot_sets=components.zeroshot_sets(cfg)
    )
    if cfg.get("ckpt_path"):
        _resume_in_place(cfg)
    loggers = components.build_loggers(cfg)
    trainer = components.build_trainer(cfg, loggers)
    trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))

    metrics = _fit_metrics(trainer)
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    if cfg.task.test_after_fit:
        results = trainer.test(module, datamodule=datamodule, ckpt_path=best or None, verbose=False)
        metrics.update({k: float(v) for k, v in results[0].items()})
    if cfg.task.zeroshot_after_fit and datamodule.zeroshot_paths:
        zeroshot = evaluate_sets(module.net, datamodule, module.device, cfg.zeroshot.templates)
        metrics.update(zeroshot)
        for logger in loggers:
            logger.log_metrics(zeroshot, step=trainer.global_step)
    metrics["best_checkpoint"] = best
    write_metrics(metrics, out)
    print(format_table(metrics, f"task=train -> {out}"))
    for logger in loggers:
        logger.finalize("success")
    return metrics


def _build_module(cfg: DictConfig):
    loss = instantiate(cfg.loss.criterion)
    weighting = instantiate(cfg.loss.weighting) if cfg.loss.get("weighting") else None
    module = instantiate(cfg.model, loss=loss, weighting=weighting)
    # So retrieval and zero-shot rebuild the network from the checkpoint alone.
    module.net_config = OmegaConf.to_container(cfg.model.net, resolve=True)
    return module


def _resume_in_place(cfg: DictConfig) -> None:
    """Keep writing checkpoints beside the one resumed from.

    Lightning restores the best score and best path only when the checkpoint folder is
    unchanged; a resumed run would otherwise forget them and could keep a worse "best".
    """
    folder = str(Path(cfg.ckpt_path).expanduser().resolve().parent)
    with open_dict(cfg):
        for callback in (cfg.get("callbacks") or {}).values():
            if callback.get("_target_", "").endswith("ModelCheckpoint"):
                callback.dirpath = folder


def _fit_metrics(trainer) -> dict[str, float]:
    callback = trainer.checkpoint_callback
    metrics = {}
    if callback is not None and callback.best_model_score is not None:
        metrics[callback.monitor] = float(callback.best_model_score)
    metrics["epochs"] = float(trainer.current_epoch)
    metrics["steps"] = float(trainer.global_step)
    return metrics
