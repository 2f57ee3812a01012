"""Assembling a run from its config: the run folder, the random seed, the data, the trainer."""

from __future__ import annotations

import importlib
import logging
import os
import warnings
from pathlib import Path

import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict

from muscall.atomic import write_text
from muscall.data.datamodule import AudioCaptionDataModule
from muscall.errors import MuscallError
from muscall.lightning.checkpoint_io import AtomicCheckpointIO
from muscall.synth.builtin import ensure_builtin_dataset

log = logging.getLogger(__name__)


def output_dir(cfg: DictConfig) -> Path:
    path = Path(cfg.paths.output_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


# What each launcher sets in the processes it starts: torchrun (RANK), srun (SLURM_PROCID),
# Lightning's own DDP launcher (LOCAL_RANK, and NODE_RANK on a node after the first).
RANK_VARIABLES = ("RANK", "SLURM_PROCID", "LOCAL_RANK", "NODE_RANK")


def first_process() -> bool:
    """Whether this is global rank 0 (or the only process), known before any trainer exists.

    Every variable a launcher set must say 0: Lightning's launcher copies the job's
    SLURM_PROCID=0 into the processes it starts, which differ in LOCAL_RANK only.
    """
    return all(int(os.environ.get(name) or 0) == 0 for name in RANK_VARIABLES)


def start_run(cfg: DictConfig) -> Path:
    """Seed, make the run folder and save the resolved config in it as `config.yaml`.

    Under DDP every rank runs this, in the same folder; only the first writes the config.
    """
    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True, verbose=False)
    out = output_dir(cfg)
    if first_process():
        write_text(out / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    return out


def build_net(net_config: DictConfig):
    """The network of `model.net`; a user error inside a constructor stays one line."""
    try:
        return instantiate(net_config)
    except InstantiationException as error:
        if isinstance(error.__cause__, MuscallError):
            raise error.__cause__ from None
        raise


def follow_audio_rate(cfg: DictConfig, network_rate: int, run_dir: Path) -> None:
    """Read the data at the rate the network takes (a Hugging Face tower's own).

    The log-mel frontend takes data.sample_rate; a pretrained tower fixes its own, which
    data.sample_rate then follows (with a warning when the command line asked for another).
    """
    current = cfg.data.sample_rate
    if current == network_rate:
        return
    if "data.sample_rate" in command_line_keys():
        log.warning("data.sample_rate=%s ignored: the network takes %s Hz", current, network_rate)
    else:
        log.info("data.sample_rate: %s Hz, the audio tower's rate", network_rate)
    with open_dict(cfg):
        cfg.data.sample_rate = network_rate
    if first_process():
        write_text(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))


def command_line_keys() -> set[str]:
    """Config keys the user set on the command line (none outside a Hydra run, e.g. tests)."""
    if not HydraConfig.initialized():
        return set()
    overrides = HydraConfig.get().overrides.task
    return {override.split("=", 1)[0].lstrip("+~") for override in overrides}


def build_datamodule(
    data: DictConfig, tokenizer, run_dir: Path, seed: int | None = None
) -> AudioCaptionDataModule:
    """The DataModule of a `data` config; bad audio is listed in the run folder.

    `seed` (the run's) fixes the training order and crops; None draws one. The built-in
    dataset is rendered first if `data` is its recipe and it is missing.
    """
    ensure_builtin_dataset(data.get("root"), data.get("generate"))
    # Imported first so that a MuscallError raised at import (a missing extra) reaches the user
    # as itself; Hydra's instantiate would wrap it in a traceback.
    importlib.import_module(data._target_.rpartition(".")[0])
    return instantiate(
        data, tokenizer=tokenizer, bad_items_path=run_dir / "bad_items.jsonl", seed=seed
    )


def hush_data_warnings() -> None:
    """Lightning's advice that does not apply to this project's loaders."""
    # The training loader resumes mid-epoch (through the DataModule's state, see state_dict),
    # though it has no state_dict of its own for Lightning to find.
    warnings.filterwarnings("ignore", message=".*your dataloader is not resumable")
    # TrainStream's length is exact: every worker yields the same whole number of batches.
    warnings.filterwarnings("ignore", message=".*Your `IterableDataset` has `__len__` defined")


def build_trainer(cfg: DictConfig, loggers: list) -> pl.Trainer:
    """The trainer of `cfg.trainer`; every checkpoint it writes is written atomically."""
    hush_data_warnings()
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values()]
    # Not a config choice: a plugins list given on the command line must not drop it.
    plugins = [AtomicCheckpointIO(), *instantiate(cfg.trainer.get("plugins") or [])]
    return instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False, plugins=plugins)
