"""The augmentation a training step applies: waveform transforms, then log-mel transforms.

Waveform transforms are torch-audiomentations modules (or any module taking (B, 1, T)); they
run on the batch's device, each with its own probability drawn per example. The log-mel
transforms run inside the network's audio path, between the frontend and the encoder, through
`DualEncoder.encode_audio(..., spec_augment=...)`. Nothing here holds state: checkpoints and
evaluation never see it.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


class Augmentation(nn.Module):
    """Named waveform transforms and named log-mel transforms, applied in order when training."""

    def __init__(
        self,
        wave: Mapping[str, nn.Module | None] | None = None,
        spec: Mapping[str, nn.Module | None] | None = None,
    ):
        super().__init__()
        # A transform set to null on the command line (augment.wave.pitch=null) is left out.
        self.wave = nn.ModuleDict({k: v for k, v in (wave or {}).items() if v is not None})
        self.spec = nn.ModuleDict({k: v for k, v in (spec or {}).items() if v is not None})

    @property
    def active(self) -> bool:
        """Whether any transform can change a batch (some probability above 0)."""
        return any(
            float(getattr(t, "p", 1.0)) > 0 for t in (*self.wave.values(), *self.spec.values())
        )

    def augment_wave(self, wave: torch.Tensor) -> torch.Tensor:
        """Waveforms (B, T) -> augmented waveforms (B, T); the input itself when not training."""
        if not self.training or not self.wave:
            return wave
        # fp32 whatever the trainer's precision: noise levels and FFTs need the range.
        with torch.autocast(device_type=wave.device.type, enabled=False):
            samples = wave.float().unsqueeze(1)  # (B, 1, T): torch-audiomentations' layout
            for transform in self.wave.values():
                out = transform(samples)
                # output_type="dict" returns an ObjectDict; "tensor" returns the samples.
                samples = out if isinstance(out, torch.Tensor) else out.samples
        return samples.squeeze(1)

    def augment_spec(self, mel: torch.Tensor) -> torch.Tensor:
        """Log-mels (B, 1, n_mels, frames) -> augmented log-mels; the input when not training."""
        if not self.training:
            return mel
        for transform in self.spec.values():
            mel = transform(mel)
        return mel
