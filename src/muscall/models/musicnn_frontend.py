"""musicnn's input: 16 kHz waveform -> log10(10000 · mel + 1) on 96 Slaney mel bands.

The filterbank is librosa's default (Slaney mel scale, Slaney area normalisation), rebuilt here
in numpy; the STFT is centred with reflect padding, as librosa 0.7 did when musicnn was trained.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

# musicnn's signal processing (its configuration.py): fixed by the trained weights.
SAMPLE_RATE = 16000
N_FFT = 512
HOP_LENGTH = 256
N_MELS = 96
PATCH_FRAMES = 187  # 3 s: librosa.time_to_frames(3, sr, n_fft, hop) + 1

_F_SP = 200.0 / 3  # Slaney: linear below 1 kHz, 200/3 Hz per mel
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = np.log(6.4) / 27.0


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / _F_SP
    log_part = hz >= _MIN_LOG_HZ
    mel[log_part] = _MIN_LOG_MEL + np.log(hz[log_part] / _MIN_LOG_HZ) / _LOG_STEP
    return mel


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    hz = _F_SP * mel
    log_part = mel >= _MIN_LOG_MEL
    hz[log_part] = _MIN_LOG_HZ * np.exp(_LOG_STEP * (mel[log_part] - _MIN_LOG_MEL))
    return hz


def slaney_mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangles from 0 Hz to Nyquist, each of unit area (Slaney)."""
    fft_hz = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    edges_hz = mel_to_hz(
        np.linspace(
            hz_to_mel(np.array([0.0]))[0], hz_to_mel(np.array([sample_rate / 2]))[0], n_mels + 2
        )
    )
    widths = np.diff(edges_hz)  # (n_mels + 1,)
    ramps = edges_hz[:, None] - fft_hz[None, :]  # (n_mels + 2, n_freqs)
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    return weights.astype(np.float32)


class MusicnnMel(nn.Module):
    """Waveform (B, T) at 16 kHz -> musicnn's log-compressed mel (B, 1, 96, frames)."""

    def __init__(self, sample_rate: int = SAMPLE_RATE):
        super().__init__()
        if sample_rate != SAMPLE_RATE:
            raise ValueError(
                f"musicnn's weights were trained on {SAMPLE_RATE} Hz audio; got "
                f"data.sample_rate={sample_rate}: set data.sample_rate={SAMPLE_RATE}"
            )
        self.sample_rate = sample_rate
        self.n_mels = N_MELS
        fbank = slaney_mel_filterbank(SAMPLE_RATE, N_FFT, N_MELS)
        # Buffers, not parameters: they follow the device and are never trained.
        self.register_buffer("fbank", torch.from_numpy(fbank), persistent=False)
        self.register_buffer("window", torch.hann_window(N_FFT), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        if wave.ndim != 2:
            raise ValueError(f"MusicnnMel expects a waveform batch (B, T), got {tuple(wave.shape)}")
        if wave.shape[1] <= N_FFT // 2:
            raise ValueError(
                f"MusicnnMel needs more than {N_FFT // 2} samples, got {wave.shape[1]}"
            )
        # float32 throughout, even under autocast: 10000 · mel overflows float16.
        with torch.autocast(device_type=wave.device.type, enabled=False):
            spec = torch.stft(
                wave.float(),
                N_FFT,
                HOP_LENGTH,
                window=self.window,
                center=True,
                pad_mode="reflect",
                return_complex=True,
            )
            power = spec.real.square() + spec.imag.square()  # (B, 257, frames)
            mel = torch.matmul(self.fbank, power)  # (B, 96, frames)
            return torch.log10(10000.0 * mel + 1.0).unsqueeze(1)
