"""Waveform to log-mel spectrogram, on the model's device, with a per-example dB floor."""

from __future__ import annotations

import torch
import torchaudio
from torch import nn


class LogMel(nn.Module):
    """Waveform (B, T) at `sample_rate` -> log-mel in dB (B, 1, n_mels, frames)."""

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 1024,
        hop_length: int = 512,
        n_mels: int = 128,
        f_min: float = 0.0,
        f_max: float | None = None,
        power: float = 2.0,
        top_db: float | None = 100.0,
    ):
        super().__init__()
        nyquist = sample_rate / 2
        f_max = nyquist if f_max is None else float(f_max)
        if f_max > nyquist:
            raise ValueError(
                f"frontend f_max={f_max} Hz is above the Nyquist frequency {nyquist} Hz of "
                f"sample_rate={sample_rate}: the top mel bands would always be empty. "
                "Set model.net.frontend.f_max to null (Nyquist) or a value <= sample_rate / 2."
            )
        if not 0.0 <= f_min < f_max:
            raise ValueError(f"frontend f_min={f_min} Hz must be in [0, f_max={f_max}) Hz")
        if power <= 0:
            raise ValueError(
                f"frontend power={power} must be positive (2.0: power, 1.0: magnitude)"
            )
        if top_db is not None and top_db <= 0:
            raise ValueError(f"frontend top_db={top_db} must be positive, or null for no floor")
        self.sample_rate = sample_rate
        self.n_mels = n_mels
        self.power = power
        self.top_db = top_db
        # The window and filterbank are buffers, so the transform follows the module's device.
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate,
            n_fft=n_fft,
            hop_length=hop_length,
            n_mels=n_mels,
            f_min=f_min,
            f_max=f_max,
            power=power,
        )

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        if wave.ndim != 2:
            raise ValueError(f"LogMel expects a waveform batch (B, T), got {tuple(wave.shape)}")
        if wave.shape[1] <= self.mel.n_fft // 2:
            # The centred STFT reflect-pads by n_fft / 2 and fails obscurely on shorter input.
            raise ValueError(
                f"LogMel got {wave.shape[1]} samples, fewer than n_fft / 2 + 1 = "
                f"{self.mel.n_fft // 2 + 1}; pad clips or lower model.net.frontend.n_fft"
            )
        # Power spectra overflow float16 (a full-scale sine reaches ~6.5e4), so stay in fp32
        # even under mixed precision.
        with torch.autocast(device_type=wave.device.type, enabled=False):
            spec = self.mel(wave.float())  # (B, n_mels, frames)
            # spec = |X|^power, so dB = 20·log10|X| = (20 / power)·log10(spec).
            db = (20.0 / self.power) * spec.clamp(min=1e-10).log10()
            if self.top_db is not None:
                # Floor each example at its own peak - top_db; torchaudio's AmplitudeToDB uses
                # one peak for a 3-D batch, which makes features depend on batch mates.
                peak = db.amax(dim=(1, 2), keepdim=True)  # (B, 1, 1)
                db = torch.maximum(db, peak - self.top_db)
        return db.unsqueeze(1)  # (B, 1, n_mels, frames)
