"""NT-Xent (SimCLR's normalised temperature-scaled cross-entropy) between two views of a batch."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class NTXent(nn.Module):
    """Each of the 2B views must pick its other view among the other 2B - 1 (cosine / τ)."""

    def __init__(self, temperature: float = 0.5):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"NT-Xent temperature={temperature} must be positive")
        self.temperature = temperature

    def forward(self, view_a: torch.Tensor, view_b: torch.Tensor) -> torch.Tensor:
        """Views (B, D) and (B, D), row i of each from the same clip -> the mean loss ()."""
        if view_a.ndim != 2 or view_a.shape != view_b.shape:
            raise ValueError(
                f"NT-Xent needs two (B, D) views of the same batch; got "
                f"{tuple(view_a.shape)} and {tuple(view_b.shape)}"
            )
        size = view_a.shape[0]
        z = F.normalize(torch.cat([view_a, view_b]), dim=-1)  # (2B, D)
        logits = z @ z.T / self.temperature  # (2B, 2B)
        self_pair = torch.eye(2 * size, dtype=torch.bool, device=z.device)
        logits = logits.masked_fill(self_pair, float("-inf"))  # a view is not its own pair
        # Row i's positive is i + B in the first half, i - B in the second.
        labels = torch.arange(2 * size, device=z.device).roll(size)
        return F.cross_entropy(logits, labels)
