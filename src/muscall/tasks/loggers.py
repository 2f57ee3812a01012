"""Experiment loggers of a training run: built from `cfg.logger`, one wandb run per job."""

from __future__ import annotations

import os
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.loggers import WandbLogger


def build_loggers(cfg: DictConfig) -> list:
    loggers = []
    for name, logger_cfg in (cfg.get("logger") or {}).items():
        if name == "wandb":
            # Never block on a login prompt: offline unless the user turned it off.
            os.environ.setdefault("WANDB_MODE", "offline" if logger_cfg.offline else "online")
            loggers.append(instantiate(logger_cfg, **_wandb_identity(cfg, logger_cfg)))
        else:
            loggers.append(instantiate(logger_cfg))
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
    return loggers


def _wandb_identity(cfg: DictConfig, logger_cfg: DictConfig) -> dict[str, str]:
    """Group and name a wandb run: a sweep's jobs share the sweep's group, one run each."""
    group, name = logger_cfg.get("group"), logger_cfg.get("name")
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        hydra = HydraConfig.get()
        # The sweep folder's date and time: two sweeps never share a group.
        group = group or "/".join([cfg.task.name, *Path(hydra.sweep.dir).parts[-2:]])
        name = name or f"job{hydra.job.num}: {hydra.job.override_dirname or 'defaults'}"
    return {"group": group or cfg.task.name, "name": name}


def finish_loggers(loggers: list, status: str) -> None:
    """Close every logger; a wandb run is finished, so the next job of a sweep gets its own."""
    for logger in loggers:
        logger.finalize(status)
        if isinstance(logger, WandbLogger):
            import wandb

            wandb.finish(exit_code=0 if status == "success" else 1)
