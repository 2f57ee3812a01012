"""Hydra set-up shared by the entrypoint, the tests and the benchmark."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf, open_dict

from muscall.task_arguments import upgrade_overrides

# src/muscall/config.py -> the repository that holds conf/
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = PROJECT_ROOT / "conf"

HUB_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
WANDB_OFFLINE = {"WANDB_MODE": "offline", "WANDB_SILENT": "true"}


def go_offline(strict: bool = False) -> None:
    """Never reach for a model hub: every pretrained part ships in a package.

    Call it before transformers is imported, which reads the variables once. A run keeps what
    the user already set and leaves wandb to `logger.wandb.offline`; `strict` (the tests)
    overrides the environment and keeps wandb offline and quiet too.
    """
    if strict:
        os.environ.update({**HUB_OFFLINE, **WANDB_OFFLINE})
        return
    for key, value in HUB_OFFLINE.items():
        os.environ.setdefault(key, value)


def register_resolvers() -> None:
    """`${muscall_root:}`: the project folder, so paths never depend on the cwd.

    `${slurm_job_or:NAME}`: `slurm-<job id>` inside a SLURM job, NAME elsewhere: a requeued
    job runs in its first run's folder, where its checkpoints are.
    """
    if not OmegaConf.has_resolver("muscall_root"):
        OmegaConf.register_new_resolver("muscall_root", lambda: str(PROJECT_ROOT))
    if not OmegaConf.has_resolver("slurm_job_or"):
        OmegaConf.register_new_resolver("slurm_job_or", slurm_job_or)


def slurm_job_or(name: str) -> str:
    """`slurm-<job id>` (`<array job>_<task>` for an array task) in a SLURM job, else `name`."""
    array_job, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    job = f"{array_job}_{task}" if array_job and task else os.environ.get("SLURM_JOB_ID")
    return f"slurm-{job}" if job else name


def compose_config(
    overrides: Sequence[str] = (),
    output_dir: str | Path | None = None,
    return_hydra_config: bool = False,
) -> DictConfig:
    """The root config with command-line style `overrides`, outside `@hydra.main`.

    `output_dir` replaces `paths.output_dir`, which otherwise needs a running Hydra job.
    Inside `@hydra.main` (a task composing another task's config) Hydra's own search path,
    which is this one, is used as it is.
    """
    register_resolvers()
    options = dict(config_name="config", overrides=upgrade_overrides(overrides))
    if GlobalHydra.instance().is_initialized():
        cfg = compose(**options, return_hydra_config=return_hydra_config)
    else:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            cfg = compose(**options, return_hydra_config=return_hydra_config)
    if output_dir is not None:
        with open_dict(cfg):
            cfg.paths.output_dir = str(output_dir)
    return cfg
