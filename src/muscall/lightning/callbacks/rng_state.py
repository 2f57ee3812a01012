"""Callbacks: RNG state in checkpoints, so a resumed run draws what the first run would have;
under DDP each process draws its own."""

from __future__ import annotations

import random

import numpy as np
import pytorch_lightning as pl
import torch


class RNGStateCallback(pl.Callback):
    """Saves and restores the Python, NumPy and torch (CPU and CUDA) generators."""

    def state_dict(self) -> dict:
        state = {
            "python": random.getstate(),
            "numpy": _numpy_state(),
            "torch": torch.get_rng_state(),
        }
        if torch.cuda.is_available():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def on_train_start(self, trainer, pl_module) -> None:
        # Every process was seeded alike, and a checkpoint holds rank 0's generators only:
        # without this, dropout and augmentation would draw the same on every device. Each
        # process reseeds from one draw of the shared state plus its rank, so a run (and its
        # resumption from the same checkpoint) stays reproducible; one process is left alone.
        if trainer.world_size > 1:
            reseed(int(torch.randint(2**62, (1,)).item()) + trainer.global_rank)

    def load_state_dict(self, state_dict: dict) -> None:
        random.setstate(state_dict["python"])
        name, keys, pos, has_gauss, gauss = state_dict["numpy"]
        np.random.set_state((name, keys.numpy(), pos, has_gauss, gauss))
        torch.set_rng_state(state_dict["torch"])
        if "cuda" in state_dict and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state_dict["cuda"])


def reseed(seed: int) -> None:
    """Python, NumPy and torch (CPU and every CUDA device) generators from one seed."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _numpy_state() -> tuple:
    # Tensors and plain numbers only: Lightning loads checkpoints with weights_only=True.
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    return name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(gauss)
