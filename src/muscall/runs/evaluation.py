"""Evaluating a checkpoint: the one path behind task=retrieval, task=zeroshot and the test
and zero-shot metrics printed after training, so a checkpoint gets the same numbers by each.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf, open_dict

from muscall.checkpoint import Checkpoint
from muscall.data.datamodule import AudioCaptionDataModule
from muscall.data.zeroshot_sets import ZeroShotSets
from muscall.errors import MuscallError
from muscall.evaluate.embed import embed_audio, evaluating
from muscall.evaluate.retrieval import RetrievalDetails, retrieval_from_audio_emb
from muscall.evaluate.zeroshot import ZeroShotDetails, evaluate_sets
from muscall.model_sources import open_model
from muscall.plots import draw_retrieval, draw_zeroshot
from muscall.plots.examples import log_retrieval_examples
from muscall.runs.assembly import build_datamodule, command_line_keys, output_dir

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """A checkpoint's network and the data it is evaluated on, with its own preprocessing."""

    checkpoint: Checkpoint
    device: torch.device
    datamodule: AudioCaptionDataModule
    templates: list[str]
    zeroshot_sets: ZeroShotSets

    @property
    def net(self):
        return self.checkpoint.net


def require_checkpoint(cfg: DictConfig, task: str) -> str:
    """`ckpt_path`, which an evaluation task cannot run without."""
    if not cfg.get("ckpt_path"):
        raise MuscallError(
            f"ckpt_path: task={task} needs a checkpoint, e.g. "
            "ckpt_path=outputs/train/<date>/<time>/checkpoints/best-....ckpt"
        )
    return cfg.ckpt_path


def eval_device(cfg: DictConfig) -> torch.device:
    """The device for evaluation: the trainer's accelerator choice."""
    accelerator = cfg.trainer.get("accelerator", "auto")
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise MuscallError("trainer.accelerator=gpu but no CUDA device is available")
    if accelerator in ("gpu", "cuda", "auto") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def open_checkpoint(
    cfg: DictConfig, ckpt_path: str | Path, zeroshot_sets: ZeroShotSets | None = None
) -> Evaluation:
    """Load a checkpoint and build the data as it was preprocessed in training."""
    device = eval_device(cfg)
    checkpoint = open_model(ckpt_path, device)
    given = command_line_keys()
    data = with_checkpoint_preprocessing(cfg.data, checkpoint.preprocessing, given)
    templates = list(cfg.zeroshot.templates)
    if checkpoint.zeroshot_templates and "zeroshot.templates" not in given:
        templates = list(checkpoint.zeroshot_templates)
    datamodule = build_datamodule(data, checkpoint.net.tokenizer, output_dir(cfg))
    return Evaluation(checkpoint, device, datamodule, templates, zeroshot_sets or ZeroShotSets())


def plots_folder(cfg: DictConfig) -> Path | None:
    """Where an evaluation's pictures go: `<run>/plots`, or None with plots.enabled=false."""
    return output_dir(cfg) / "plots" if cfg.plots.enabled else None


def retrieval(evaluation: Evaluation, split: str, plots: Path | None = None) -> dict[str, float]:
    """Text-to-audio and audio-to-text retrieval on every caption of a split.

    With a `plots` folder, the pictures of the ranks and embeddings behind the metrics too.
    """
    metrics, details = retrieval_details(evaluation, split)
    if plots is not None:
        datamodule = evaluation.datamodule
        draw_retrieval(details, plots, split)
        paths = [datamodule.tracks(split)[i].audio_path for i in details.track_indices]
        log_retrieval_examples(
            details, paths, split, evaluation.checkpoint.net.frontend.sample_rate
        )
    return metrics


def retrieval_details(evaluation: Evaluation, split: str) -> tuple[dict, RetrievalDetails]:
    """`retrieval`'s metrics and the per-query ranks behind them (task=benchmark's input)."""
    net, datamodule = evaluation.net, evaluation.datamodule
    with evaluating(net):
        indices, audio_emb = embed_audio(net, datamodule.pairs_loader(split), evaluation.device)
        if len(indices) == 0:
            raise MuscallError(
                f"data.root={datamodule.root}: no audio of split {split!r} could be read"
            )
        return retrieval_from_audio_emb(net, datamodule.tracks(split), indices, audio_emb)


def zeroshot(evaluation: Evaluation, plots: Path | None = None) -> dict[str, float]:
    """Every zero-shot set of the evaluation, as `zeroshot/<set>/<metric>`; pictures in `plots`."""
    metrics, details = zeroshot_details(evaluation)
    if plots is not None:
        draw_zeroshot(details, plots)
    return metrics


def zeroshot_details(evaluation: Evaluation) -> tuple[dict, list[ZeroShotDetails]]:
    """`zeroshot`'s metrics and each set's per-item scores (task=benchmark's input)."""
    with evaluating(evaluation.net):
        return evaluate_sets(
            evaluation.net,
            evaluation.zeroshot_sets,
            evaluation.datamodule,
            evaluation.device,
            evaluation.templates,
        )


def with_checkpoint_preprocessing(
    data: DictConfig, saved: dict | None, given: set[str]
) -> DictConfig:
    """`data` with the checkpoint's preprocessing, except keys given on the command line."""
    data = OmegaConf.create(OmegaConf.to_container(data, resolve=True))
    with open_dict(data):
        for key, value in (saved or {}).items():
            current = data.get(key)
            if f"data.{key}" not in given or current == value:
                data[key] = value
            elif key == "sample_rate":
                log.warning("data.sample_rate=%s ignored: the network takes %s Hz", current, value)
                data[key] = value
            else:
                log.warning(
                    "data.%s=%s from the command line (checkpoint: %s)", key, current, value
                )
    return data
