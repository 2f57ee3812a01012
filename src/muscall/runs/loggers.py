"""Experiment loggers of a training run: built from `cfg.logger`, one wandb run per run folder.

The wandb run's id is kept in `<run>/wandb_run_id`, so a run resumed in its folder (after a
kill, SIGTERM or a SLURM requeue) goes on logging into the same wandb run.
"""

from __future__ import annotations

import os
import secrets
import string
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.loggers import WandbLogger

from muscall.atomic import write_text
from muscall.runs.assembly import first_process

WANDB_ID_FILE = "wandb_run_id"


def build_loggers(cfg: DictConfig) -> list:
    loggers = []
    for name, logger_cfg in (cfg.get("logger") or {}).items():
        if name == "wandb":
            # Never block on a login prompt: offline unless the user turned it off.
            os.environ.setdefault("WANDB_MODE", "offline" if logger_cfg.offline else "online")
            identity = _wandb_identity(cfg, logger_cfg)
            # Under srun or torchrun every rank builds its loggers at once; only rank 0 logs
            # (Lightning), so only it may make and save the id a resumed run reads back.
            run_id = wandb_run_id(Path(cfg.paths.output_dir)) if first_process() else None
            loggers.append(instantiate(logger_cfg, **identity, id=run_id, resume="allow"))
        else:
            loggers.append(instantiate(logger_cfg))
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
    return loggers


# Config group choices that tag a wandb run, so runs filter by recipe, ablation, model, data.
TAGGED_GROUPS = ("experiment", "ablation", "model", "data", "loss", "augment", "hparams_search")


def _wandb_identity(cfg: DictConfig, logger_cfg: DictConfig) -> dict:
    """Group, name and tags of a wandb run.

    A single run is grouped by its experiment (else its task); a sweep's jobs share the
    sweep's group, one run each. Tags name the task and the chosen config options.
    """
    group, name = logger_cfg.get("group"), logger_cfg.get("name")
    choices = dict(HydraConfig.get().runtime.choices) if HydraConfig.initialized() else {}
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        hydra = HydraConfig.get()
        # The sweep folder's date and time: two sweeps never share a group.
        group = group or "/".join([cfg.task.name, *Path(hydra.sweep.dir).parts[-2:]])
        name = name or f"job{hydra.job.num}: {hydra.job.override_dirname or 'defaults'}"
    tags = [*(logger_cfg.get("tags") or []), f"task={cfg.task.name}"]
    tags += [f"{g}={choices[g]}" for g in TAGGED_GROUPS if choices.get(g) not in (None, "null")]
    group = group or choices.get("experiment") or cfg.task.name
    return {"group": group, "name": name, "tags": tags}


def wandb_run_id(run_dir: Path) -> str:
    """The wandb run id of a run folder: made and saved the first time, read after that."""
    path = run_dir / WANDB_ID_FILE
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    # As wandb makes its own: 8 characters of [a-z0-9].
    run_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))
    write_text(path, run_id + "\n")
    return run_id


def finish_loggers(loggers: list, status: str) -> None:
    """Close every logger; a wandb run is finished, so the next job of a sweep gets its own."""
    for logger in loggers:
        logger.finalize(status)
        if isinstance(logger, WandbLogger):
            import wandb

            wandb.finish(exit_code=0 if status == "success" else 1)
