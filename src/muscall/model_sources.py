"""The one resolver of a model path (`ckpt_path`, `muscall.load`): a training checkpoint, an
exported model folder, `hf:NAME_OR_DIR` (a Hugging Face CLAP model as it is) or
`pretrained:<name>` (a model that needs no training, muscall.pretrained). A new kind of model
source is added here, once."""

from __future__ import annotations

from pathlib import Path

import torch

from muscall.checkpoint import Checkpoint, load_checkpoint
from muscall.errors import MuscallError
from muscall.export.folder import is_model_folder, load_model_folder
from muscall.hf_checkpoint import load_hf_clap
from muscall.pretrained import PREFIX as PRETRAINED_PREFIX
from muscall.pretrained import load_pretrained

HF_PREFIX = "hf:"


def open_model(path: str | Path, map_location: str | torch.device = "cpu") -> Checkpoint:
    """The network and metadata behind `path`, whatever kind of model source it is."""
    if str(path).startswith(HF_PREFIX):
        return load_hf_clap(str(path)[len(HF_PREFIX) :], map_location)
    if str(path).startswith(PRETRAINED_PREFIX):
        return load_pretrained(str(path), map_location)
    path = Path(path).expanduser()
    if path.is_dir():
        if not is_model_folder(path):
            raise MuscallError(f"{path}: a folder, but not an exported model (no config.json)")
        return load_model_folder(path, map_location)
    return load_checkpoint(path, map_location)
