"""Small operations on mono waveforms: resampling, fitting to a length."""

from __future__ import annotations

import math

import numpy as np
import torch
import torchaudio.functional as AF

from muscall.errors import AudioProblem


def to_rate(wave: np.ndarray, source_rate: int, target_rate: int, path) -> np.ndarray:
    """`wave` resampled from `source_rate` to `target_rate` (the same array when equal)."""
    if source_rate == target_rate:
        return wave
    if source_rate <= 0:
        raise AudioProblem(f"{path}: invalid sample rate {source_rate}", "sample rate")
    resampled = AF.resample(torch.from_numpy(wave), source_rate, target_rate)
    return resampled.numpy().astype(np.float32, copy=False)


def resampled_length(frames: int, source_rate: int, target_rate: int) -> int:
    """How many samples `frames` at `source_rate` become at `target_rate` (as torchaudio)."""
    return math.ceil(frames * target_rate / source_rate)


def fit_length(wave: np.ndarray, samples: int) -> np.ndarray:
    """`wave` cut or zero-padded at the end to `samples`."""
    if wave.shape[0] >= samples:
        return wave[:samples]
    return np.pad(wave, (0, samples - wave.shape[0]))
