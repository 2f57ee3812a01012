"""Coloured noise at a random SNR, made for the whole batch with one FFT.

torch-audiomentations' AddColoredNoise tiles one second of noise, so its noise repeats every
second, and builds each example's in a Python loop of small ops: as fast as this on an idle
2-core CPU, 5 to 8 times slower on a busy one (bench/augment.py).
"""

from __future__ import annotations

import torch
from torch import nn


class ColoredNoise(nn.Module):
    """Adds noise with power ∝ 1/f^decay, per example with probability `p` (shape (B, C, T)).

    decay: 0 white, 1 pink, 2 brown, -1 blue, -2 violet; drawn uniformly from
    [min_f_decay, max_f_decay], the SNR (dB, against the example's RMS) from
    [min_snr_in_db, max_snr_in_db]. A silent example stays silent.
    """

    def __init__(
        self,
        min_snr_in_db: float = 3.0,
        max_snr_in_db: float = 30.0,
        min_f_decay: float = -2.0,
        max_f_decay: float = 2.0,
        p: float = 0.5,
    ):
        super().__init__()
        if min_snr_in_db > max_snr_in_db or min_f_decay > max_f_decay:
            raise ValueError(
                f"ColoredNoise ranges must be min <= max: snr [{min_snr_in_db}, "
                f"{max_snr_in_db}] dB, f_decay [{min_f_decay}, {max_f_decay}]"
            )
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"ColoredNoise p={p}: a probability in [0, 1]")
        self.snr_db = (min_snr_in_db, max_snr_in_db)
        self.f_decay = (min_f_decay, max_f_decay)
        self.p = p

    def forward(self, samples: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return samples
        chosen = (torch.rand(samples.shape[0], device=samples.device) < self.p).nonzero()[:, 0]
        if chosen.numel() == 0:
            return samples
        picked = samples[chosen]  # (b, C, T)
        count, length = picked.shape[0], picked.shape[-1]
        decay = _uniform(self.f_decay, count, picked)  # (b, 1)
        snr_db = _uniform(self.snr_db, count, picked)  # (b, 1)
        spectrum = torch.fft.rfft(torch.randn(count, length, device=picked.device))  # (b, F)
        # Bin k is k · sample_rate / T Hz; the scale cancels in the normalisation below.
        bins = torch.arange(spectrum.shape[-1], device=picked.device).clamp(min=1)
        spectrum = spectrum * bins.pow(-decay / 2)  # amplitude ∝ f^(-decay / 2)
        spectrum[:, 0] = 0  # no DC offset
        noise = torch.fft.irfft(spectrum, n=length)  # (b, T)
        noise = noise / noise.pow(2).mean(-1, keepdim=True).sqrt().clamp(min=1e-12)
        signal_rms = picked.pow(2).mean(-1, keepdim=True).sqrt()  # (b, C, 1)
        level = signal_rms / 10 ** (snr_db[:, :, None] / 20)
        out = samples.clone()
        out[chosen] = picked + level * noise[:, None, :]
        return out


def _uniform(bounds: tuple[float, float], count: int, like: torch.Tensor) -> torch.Tensor:
    low, high = bounds
    return low + (high - low) * torch.rand(count, 1, device=like.device, dtype=like.dtype)
