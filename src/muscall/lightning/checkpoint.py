"""Rebuilding a trained network from a checkpoint file alone, on any device."""

from __future__ import annotations

from pathlib import Path

import torch
from hydra.utils import instantiate

from muscall.errors import MuscallError


def load_net(path: str | Path, map_location: str | torch.device = "cpu"):
    """Return the DualEncoder saved in a training checkpoint, in eval mode."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise MuscallError(f"{path}: checkpoint not found (set ckpt_path)")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as error:  # noqa: BLE001 - torch raises several types for bad files
        raise MuscallError(f"{path}: not a readable checkpoint ({error})") from error
    net_config = checkpoint.get("muscall", {}).get("net_config")
    if net_config is None:
        raise MuscallError(f"{path}: not a muscall training checkpoint (no network config)")
    net = instantiate(net_config)
    prefix = "net."
    state = {
        k[len(prefix) :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)
    }
    net.load_state_dict(state)
    return net.to(map_location).eval()
