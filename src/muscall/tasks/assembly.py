"""Assembling a run from its config: the run folder, the random seed, the data, the trainer."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from muscall.data.datamodule import AudioCaptionDataModule


def output_dir(cfg: DictConfig) -> Path:
    path = Path(cfg.paths.output_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_run(cfg: DictConfig) -> Path:
    """Seed, make the run folder and save the resolved config in it as `config.yaml`."""
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True, verbose=False)
    out = output_dir(cfg)
    OmegaConf.save(cfg, out / "config.yaml", resolve=True)
    return out


def build_datamodule(data: DictConfig, tokenizer, run_dir: Path) -> AudioCaptionDataModule:
    """The DataModule of a `data` config; bad audio is listed in the run folder."""
    return instantiate(data, tokenizer=tokenizer, bad_items_path=run_dir / "bad_items.jsonl")


def build_trainer(cfg: DictConfig, loggers: list) -> pl.Trainer:
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values()]
    return instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
