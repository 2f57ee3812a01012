"""`hf:NAME_OR_DIR`: a Hugging Face CLAP model as a checkpoint, to evaluate it as it is.

The network is conf/model/hf_clap.yaml's, with its pretrained weights; the preprocessing is
the feature extractor's (its sample rate, its clip length as the evaluation window).
"""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import OmegaConf

from muscall.checkpoint import Checkpoint, build_net, unsaved_checkpoint
from muscall.config import CONFIG_DIR
from muscall.errors import MuscallError
from muscall.models.hf_bundle import net_files

# The network config this reads: the same one `model=hf_clap` trains.
HF_CLAP_CONFIG = CONFIG_DIR / "model" / "hf_clap.yaml"


def hf_clap_config(name_or_path: str) -> dict:
    """conf/model/hf_clap.yaml's network config for `name_or_path`."""
    net = OmegaConf.load(HF_CLAP_CONFIG).net
    net.name_or_path = name_or_path
    return OmegaConf.to_container(net, resolve=True)


def load_hf_clap(name_or_path: str, map_location: str | torch.device = "cpu") -> Checkpoint:
    """The CLAP model `name_or_path` (a hub name or a folder) as a Checkpoint, in eval mode."""
    if not name_or_path:
        raise MuscallError("ckpt_path=hf: needs a model, e.g. ckpt_path=hf:laion/larger_clap_music")
    config = hf_clap_config(name_or_path)
    net = build_net(config, Path(name_or_path))
    extractor = net.frontend.extractor
    clip_seconds = getattr(extractor, "nb_max_samples", 0) / net.frontend.sample_rate
    preprocessing = {
        "sample_rate": net.frontend.sample_rate,
        # The clip length the model was trained on, as both the training and the eval window.
        "clip_seconds": clip_seconds or 10.0,
        "eval_crop": "windows",
        "eval_clip_seconds": None,
        "eval_hop_seconds": None,
    }
    net = net.to(map_location)
    return unsaved_checkpoint(f"hf:{name_or_path}", net, config, preprocessing, net_files(net))
