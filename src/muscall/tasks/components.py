"""Building a task's parts from the config: data, network, trainer, loggers, devices."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.loggers import WandbLogger

from muscall.data.datamodule import AudioCaptionDataModule
from muscall.errors import MuscallError

log = logging.getLogger(__name__)


def output_dir(cfg: DictConfig) -> Path:
    path = Path(cfg.paths.output_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_run(cfg: DictConfig) -> Path:
    """Seed, make the run folder and save the resolved config in it as `config.yaml`."""
    seed_everything(cfg)
    out = output_dir(cfg)
    OmegaConf.save(cfg, out / "config.yaml", resolve=True)
    return out


def seed_everything(cfg: DictConfig) -> None:
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True, verbose=False)


def ensure_builtin_dataset(data_cfg: DictConfig) -> None:
    """Render the built-in dataset when `data.root` is its home and it is not there yet."""
    generate = data_cfg.get("generate")
    if not generate:
        return
    root = Path(data_cfg.root).expanduser().resolve()
    if root != Path(generate.root).expanduser().resolve():
        return  # the user pointed data.root at their own data
    render_builtin(generate)


def render_builtin(generate: DictConfig, overwrite: bool = False) -> dict:
    """Render (or find ready) the built-in dataset described by a `data.generate` block."""
    from muscall.synth import build_dataset  # rendering needs tinysoundfont; import on demand

    params = {k: v for k, v in OmegaConf.to_container(generate).items() if k != "root"}
    summary = build_dataset(Path(generate.root).expanduser(), overwrite=overwrite, **params)
    log.info("built-in dataset ready at %s: %s", generate.root, summary)
    return summary


def build_datamodule(
    data: DictConfig, tokenizer, zeroshot_sets: dict[str, str], run_dir: Path
) -> AudioCaptionDataModule:
    """The DataModule of a `data` config; bad audio is listed in the run folder."""
    return AudioCaptionDataModule(
        root=data.root,
        name=data.name,
        sample_rate=data.sample_rate,
        npy_sample_rate=data.npy_sample_rate,
        clip_seconds=data.clip_seconds,
        eval_clip_seconds=data.eval_clip_seconds,
        eval_crop=data.eval_crop,
        eval_hop_seconds=data.eval_hop_seconds,
        batch_size=data.batch_size,
        eval_batch_size=data.eval_batch_size,
        num_workers=data.num_workers,
        pin_memory=data.pin_memory,
        zeroshot_sets=zeroshot_sets,
        tokenizer=tokenizer,
        bad_items_path=run_dir / "bad_items.jsonl",
    )


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


def build_trainer(cfg: DictConfig, loggers: list) -> pl.Trainer:
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values()]
    return instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)


def eval_device(cfg: DictConfig) -> torch.device:
    """The device for standalone evaluation: the trainer's accelerator choice."""
    accelerator = cfg.trainer.get("accelerator", "auto")
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise MuscallError("trainer.accelerator=gpu but no CUDA device is available")
    if accelerator in ("gpu", "cuda", "auto") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def zeroshot_sets(cfg: DictConfig) -> dict[str, str]:
    """Configured zero-shot sets whose files exist; missing ones are reported and skipped."""
    sets = {}
    for name, path in (cfg.zeroshot.get("sets") or {}).items():
        if Path(path).expanduser().is_file():
            sets[name] = str(Path(path).expanduser())
        else:
            log.warning("zero-shot set %r skipped: %s not found", name, path)
    return sets


def require_checkpoint(cfg: DictConfig, task: str) -> str:
    """`ckpt_path`, which an evaluation task cannot run without."""
    if not cfg.get("ckpt_path"):
        raise MuscallError(
            f"ckpt_path: task={task} needs a checkpoint, e.g. "
            "ckpt_path=outputs/train/<date>/<time>/checkpoints/best-....ckpt"
        )
    return cfg.ckpt_path
