"""SpecAugment-style masking of a log-mel batch, drawn independently for every example.

Not torchaudio's FrequencyMasking / TimeMasking: they fill with one constant, and 0 dB is a
loud value on an unnormalised log-mel whose floor moves with each clip's peak. Here a masked
band takes the example's own mean, which is what SpecAugment's 0 is on normalised features.
"""

from __future__ import annotations

import torch
from torch import nn

_AXES = {"freq": -2, "time": -1}


class MelMask(nn.Module):
    """With probability `p` per example, `masks` bands along `axis` set to the example's mean.

    Each band's width is drawn uniformly from 1 to `max_width` × the axis length (at least one
    row), its start uniformly among the positions where it fits.
    """

    def __init__(self, axis: str, max_width: float, masks: int = 1, p: float = 0.5):
        super().__init__()
        if axis not in _AXES:
            raise ValueError(f"MelMask axis={axis!r}: use 'freq' or 'time'")
        if not 0.0 < max_width <= 1.0:
            raise ValueError(f"MelMask max_width={max_width}: a fraction of the axis in (0, 1]")
        if masks < 1:
            raise ValueError(f"MelMask masks={masks}: at least 1")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"MelMask p={p}: a probability in [0, 1]")
        self.axis = axis
        self.max_width = max_width
        self.masks = masks
        self.p = p

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return mel
        batch, size, device = mel.shape[0], mel.shape[_AXES[self.axis]], mel.device
        most = max(1, int(self.max_width * size))
        width = 1 + (torch.rand(batch, self.masks, 1, device=device) * most).long()  # (B, M, 1)
        start = (torch.rand(batch, self.masks, 1, device=device) * (size - width + 1)).long()
        position = torch.arange(size, device=device)  # (S,)
        hit = ((position >= start) & (position < start + width)).any(dim=1)  # (B, S)
        hit &= torch.rand(batch, 1, device=device) < self.p  # the examples drawn, (B, 1)
        shape = (batch, 1, size, 1) if self.axis == "freq" else (batch, 1, 1, size)
        fill = mel.mean(dim=tuple(range(1, mel.ndim)), keepdim=True)  # (B, 1, 1, 1)
        return torch.where(hit.view(shape), fill, mel)
