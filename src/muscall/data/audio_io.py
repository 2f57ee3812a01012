"""Reading audio clips: `.npy` arrays or any soundfile format, cropped, mono, resampled."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from muscall.errors import AudioError

CROP_MODES = ("random", "centre", "none")


@dataclass(frozen=True)
class AudioSource:
    """An opened audio file: how many frames it has at which rate, before any decoding."""

    path: Path
    num_frames: int
    sample_rate: int


def probe(path: Path, npy_sample_rate: int) -> AudioSource:
    """Open `path` cheaply (header or memory map) and report its length and rate."""
    if not path.is_file():
        raise AudioError(f"{path}: audio file not found")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: audio file is empty (0 bytes)")
    try:
        if path.suffix.lower() == ".npy":
            array = np.load(path, mmap_mode="r")
            return AudioSource(path, _npy_frames(array, path), npy_sample_rate)
        info = sf.info(str(path))
        return AudioSource(path, int(info.frames), int(info.samplerate))
    except AudioError:
        raise
    except Exception as error:  # noqa: BLE001 - decoder errors come in many types
        raise AudioError(f"{path}: cannot read audio ({error})") from error


def read_clip(
    path: str | Path,
    sample_rate: int,
    clip_seconds: float | None,
    mode: str = "centre",
    rng: np.random.Generator | None = None,
    npy_sample_rate: int = 16000,
) -> np.ndarray:
    """Return a mono float32 clip at `sample_rate`, `clip_seconds` long (zero-padded at the end).

    Only the cropped frames are decoded, so long tracks cost no more than short ones.
    `mode` is "random" (training), "centre" (evaluation) or "none" (whole file).
    """
    if mode not in CROP_MODES:
        raise ValueError(f"crop mode must be one of {CROP_MODES}, got {mode!r}")
    source = probe(Path(path), npy_sample_rate)
    if source.num_frames == 0:
        raise AudioError(f"{path}: audio file is empty")
    want = None if clip_seconds is None or mode == "none" else clip_seconds
    # Crop in the file's own rate, then resample only what is kept.
    length = source.num_frames if want is None else math.ceil(want * source.sample_rate)
    start = _crop_start(source.num_frames, length, mode, rng)
    wave = _decode(source, start, min(length, source.num_frames - start))
    wave = _to_rate(wave, source.sample_rate, sample_rate, path)
    if want is not None:
        wave = _fit(wave, round(want * sample_rate))
    return wave


def window_starts(total: int, window: int, hop: int) -> list[int]:
    """Window starts covering `total` samples; the last window ends at the track's end.

    A track no longer than one window gets one window at 0 (zero-padded by the caller), so
    whole-track embedding equals the crop for short clips and never embeds padding otherwise.
    """
    if window <= 0 or hop <= 0:
        raise ValueError(f"window ({window}) and hop ({hop}) must be positive")
    if total <= window:
        return [0]
    starts = list(range(0, total - window, hop))
    return [*starts, total - window]


def read_windows(
    path: str | Path,
    sample_rate: int,
    window_seconds: float,
    hop_seconds: float | None = None,
    npy_sample_rate: int = 16000,
) -> np.ndarray:
    """Windows over the whole track, (W, window samples) at `sample_rate`: whole-track evaluation."""
    wave = read_clip(path, sample_rate, None, "none", None, npy_sample_rate)
    window = round(window_seconds * sample_rate)
    hop = round((hop_seconds or window_seconds) * sample_rate)
    starts = window_starts(wave.shape[0], window, hop)
    return np.stack([_fit(wave[start : start + window], window) for start in starts])


def check_audible(wave: np.ndarray, path: str | Path) -> None:
    """Reject whole files that are silent or hold NaN/inf: they would poison a batch."""
    if not np.isfinite(wave).all():
        raise AudioError(f"{path}: audio holds NaN or infinite samples")
    if not np.any(wave):
        raise AudioError(f"{path}: audio is silent (all samples are zero)")


def _npy_frames(array: np.ndarray, path: Path) -> int:
    # MusCALL's layout: mono (N,) or channels-first (C, N) with few channels.
    if array.ndim == 1:
        return array.shape[0]
    if array.ndim == 2 and array.shape[0] <= 8:
        return array.shape[1]
    raise AudioError(
        f"{path}: expected a waveform of shape (N,) or (channels, N), got {array.shape}"
    )


def _crop_start(total: int, length: int, mode: str, rng: np.random.Generator | None) -> int:
    if total <= length or mode == "none":
        return 0
    if mode == "centre":
        return (total - length) // 2
    rng = rng if rng is not None else np.random.default_rng()
    return int(rng.integers(0, total - length + 1))


def _decode(source: AudioSource, start: int, frames: int) -> np.ndarray:
    try:
        if source.path.suffix.lower() == ".npy":
            array = np.load(source.path, mmap_mode="r")
            crop = (
                array[start : start + frames]
                if array.ndim == 1
                else array[:, start : start + frames]
            )
            wave = np.array(crop, dtype=np.float32)  # a copy: the memory map is read-only
            wave = wave if wave.ndim == 1 else wave.mean(axis=0)
        else:
            data, _ = sf.read(
                str(source.path), start=start, frames=frames, dtype="float32", always_2d=True
            )
            wave = data.mean(axis=1)
    except Exception as error:  # noqa: BLE001 - decoder errors come in many types
        raise AudioError(f"{source.path}: cannot decode audio ({error})") from error
    if not np.isfinite(wave).all():
        raise AudioError(f"{source.path}: audio holds NaN or infinite samples")
    return np.ascontiguousarray(wave, dtype=np.float32)


def _to_rate(wave: np.ndarray, source_rate: int, target_rate: int, path) -> np.ndarray:
    if source_rate == target_rate:
        return wave
    if source_rate <= 0:
        raise AudioError(f"{path}: invalid sample rate {source_rate}")
    resampled = AF.resample(torch.from_numpy(wave), source_rate, target_rate)
    return resampled.numpy().astype(np.float32, copy=False)


def _fit(wave: np.ndarray, samples: int) -> np.ndarray:
    if wave.shape[0] >= samples:
        return wave[:samples]
    return np.pad(wave, (0, samples - wave.shape[0]))
