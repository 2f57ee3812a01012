"""Reading audio clips: `.npy` arrays or any soundfile format, cropped, mono, resampled."""

from __future__ import annotations

import math
from collections.abc import Iterator
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
        wave = fit_length(wave, round(want * sample_rate))
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
    return np.stack(
        list(iter_windows(path, sample_rate, window_seconds, hop_seconds, npy_sample_rate))
    )


def iter_windows(
    path: str | Path,
    sample_rate: int,
    window_seconds: float,
    hop_seconds: float | None = None,
    npy_sample_rate: int = 16000,
) -> Iterator[np.ndarray]:
    """Yield the whole track's windows one at a time, each decoded on its own.

    A 30-minute stereo track never sits in memory: each window's span is read from the file
    in its own rate and resampled alone. Windows are placed as `window_starts` places them on
    the track at `sample_rate`.
    """
    source = probe(Path(path), npy_sample_rate)
    if source.num_frames == 0:
        raise AudioError(f"{path}: audio file is empty")
    window = round(window_seconds * sample_rate)
    hop = round((hop_seconds or window_seconds) * sample_rate)
    total = resampled_length(source.num_frames, source.sample_rate, sample_rate)
    span = math.ceil(window * source.sample_rate / sample_rate)  # one window, in the file's rate
    with _Decoder(source) as decoder:
        for start in window_starts(total, window, hop):
            first = start * source.sample_rate // sample_rate
            wave = decoder.read(first, min(span, source.num_frames - first))
            yield fit_length(_to_rate(wave, source.sample_rate, sample_rate, path), window)


def resampled_length(frames: int, source_rate: int, target_rate: int) -> int:
    """How many samples `frames` at `source_rate` become at `target_rate` (as torchaudio)."""
    return math.ceil(frames * target_rate / source_rate)


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
    with _Decoder(source) as decoder:
        return decoder.read(start, frames)


class _Decoder:
    """An open audio file read span by span; a span that follows the last one needs no seek."""

    def __init__(self, source: AudioSource):
        self.source = source
        self._file: sf.SoundFile | None = None
        self._array: np.ndarray | None = None

    def __enter__(self) -> _Decoder:
        try:
            if self.source.path.suffix.lower() == ".npy":
                self._array = np.load(self.source.path, mmap_mode="r")
            else:
                self._file = sf.SoundFile(str(self.source.path))
        except Exception as error:  # noqa: BLE001 - decoder errors come in many types
            raise AudioError(f"{self.source.path}: cannot decode audio ({error})") from error
        return self

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            self._file.close()

    def read(self, start: int, frames: int) -> np.ndarray:
        """Mono float32 frames [start, start + frames) of the file."""
        try:
            if self._array is not None:
                array = self._array
                crop = (
                    array[start : start + frames]
                    if array.ndim == 1
                    else array[:, start : start + frames]
                )
                wave = np.array(crop, dtype=np.float32)  # a copy: the memory map is read-only
                wave = wave if wave.ndim == 1 else wave.mean(axis=0)
            else:
                if self._file.tell() != start:
                    self._file.seek(start)
                wave = self._file.read(frames, dtype="float32", always_2d=True).mean(axis=1)
        except Exception as error:  # noqa: BLE001 - decoder errors come in many types
            raise AudioError(f"{self.source.path}: cannot decode audio ({error})") from error
        if not np.isfinite(wave).all():
            raise AudioError(f"{self.source.path}: audio holds NaN or infinite samples")
        return np.ascontiguousarray(wave, dtype=np.float32)


def _to_rate(wave: np.ndarray, source_rate: int, target_rate: int, path) -> np.ndarray:
    if source_rate == target_rate:
        return wave
    if source_rate <= 0:
        raise AudioError(f"{path}: invalid sample rate {source_rate}")
    resampled = AF.resample(torch.from_numpy(wave), source_rate, target_rate)
    return resampled.numpy().astype(np.float32, copy=False)


def fit_length(wave: np.ndarray, samples: int) -> np.ndarray:
    """`wave` cut or zero-padded at the end to `samples`."""
    if wave.shape[0] >= samples:
        return wave[:samples]
    return np.pad(wave, (0, samples - wave.shape[0]))
