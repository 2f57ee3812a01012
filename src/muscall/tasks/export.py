"""task=export: a checkpoint -> a model folder (safetensors + JSON), optionally ONNX graphs.

The export is read back and checked against the checkpoint before the task reports success.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from omegaconf import DictConfig

from muscall.api import MusCALLModel, load
from muscall.errors import MuscallError
from muscall.export.folder import save_model_folder
from muscall.extras import require
from muscall.report import format_table, write_metrics
from muscall.runs import evaluation
from muscall.runs.assembly import start_run

log = logging.getLogger(__name__)

FORMATS = ("safetensors", "onnx")
CHECK_TEXTS = ["an upbeat rock song with distorted guitar", "a calm solo piano piece"]


def run(cfg: DictConfig) -> dict[str, float]:
    ckpt_path = evaluation.require_checkpoint(cfg, "export")
    if cfg.format not in FORMATS:
        raise MuscallError(f"format={cfg.format}: choose one of {', '.join(FORMATS)}")
    out_run = start_run(cfg)
    model = load(ckpt_path, device="cpu")
    out = Path(cfg.out).expanduser() if cfg.out else out_run / "model"
    extra = None
    if cfg.format == "onnx":
        require("onnx", "ONNX export (format=onnx)")
        from muscall.export.onnx import export_onnx  # checks ONNX Runtime against PyTorch

        def extra(folder: Path) -> None:
            export_onnx(model.net, folder)

    folder = save_model_folder(model.checkpoint, out, extra)
    metrics = _check_same_embeddings(model, load(folder, device="cpu"))
    write_metrics(metrics, out_run)
    print(format_table(metrics, f"task=export format={cfg.format} -> {folder}"))
    return metrics


def _check_same_embeddings(original: MusCALLModel, exported: MusCALLModel) -> dict[str, float]:
    """The export must embed exactly as the checkpoint does; anything else is a failed export."""
    wave = torch.randn(2, int(original.window_seconds * original.sample_rate)) * 0.1
    diffs = {
        "audio_max_abs_diff": (original.embed_audio(wave) - exported.embed_audio(wave)).abs().max(),
        "text_max_abs_diff": (original.embed_text(CHECK_TEXTS) - exported.embed_text(CHECK_TEXTS))
        .abs()
        .max(),
    }
    diffs = {key: float(value) for key, value in diffs.items()}
    if max(diffs.values()) > 1e-6:
        raise MuscallError(f"exported model differs from {original.source}: {diffs}")
    return diffs
