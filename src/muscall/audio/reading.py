"""Reading audio clips: `.npy` arrays or any audio format, cropped, mono, resampled.

Files are opened by content (muscall.audio.source: soundfile, FFmpeg or `.npy`), and
their length is the decoded one (the rule is in that module). Every unusable file raises
AudioProblem (an AudioError): one message naming the file and why, with the kind of problem
for reports (muscall.data.bad_items.KINDS).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from muscall.audio.downmix import downmix
from muscall.audio.file_state import check_unchanged
from muscall.audio.source import (
    MAX_SAMPLE_RATE,
    MIN_SAMPLE_RATE,
    AudioSource,
    Decoder,
    probe,
)
from muscall.audio.track_windows import TrackWindows, window_starts
from muscall.audio.wave_ops import fit_length, resampled_length, to_rate
from muscall.errors import AudioProblem

__all__ = [
    "MAX_SAMPLE_RATE",
    "MIN_SAMPLE_RATE",
    "AudioSource",
    "check_audible",
    "check_whole_file",
    "downmix",
    "fit_length",
    "iter_windows",
    "probe",
    "read_clip",
    "read_windows",
    "resampled_length",
    "window_starts",
]

CROP_MODES = ("random", "centre", "none")
_Decoder = Decoder  # the name the tests of bad input know


def check_whole_file(path: Path, npy_sample_rate: int, block_frames: int = 2**18) -> AudioSource:
    """Decode every frame of `path` once, block by block: raises if any is unusable.

    Catches what a crop may miss: truncation past the crop, NaN/inf anywhere, a silent file,
    a file that changed while it was read. Returns the source with its decoded length.
    """
    source = probe(Path(path), npy_sample_rate)
    _check_not_empty(source)
    audible = False
    with Decoder(source) as decoder:
        start = 0
        while decoder.end is None:
            wave = decoder.read(start, block_frames)
            audible = audible or bool(np.any(wave))
            start += wave.shape[0]
    check_unchanged(source)
    if decoder.end == 0:
        raise AudioProblem(f"{path}: audio file is empty (no samples)", "empty")
    if not audible:
        raise AudioProblem(f"{path}: audio is silent (all samples are zero)", "silent")
    return decoder.source


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
    `mode` is "random" (training), "centre" (evaluation) or "none" (whole file). A crop
    placed by a header that promised more than the stream holds is placed again within
    the decoded length, which that read has just learned.
    """
    if mode not in CROP_MODES:
        raise ValueError(f"crop mode must be one of {CROP_MODES}, got {mode!r}")
    source = probe(Path(path), npy_sample_rate)
    _check_not_empty(source)
    want = None if clip_seconds is None or mode == "none" else clip_seconds
    with Decoder(source) as decoder:
        if want is None:
            wave = decoder.read(0, None)
        else:
            # Crop in the file's own rate, then resample only what is kept.
            wave = _crop(decoder, math.ceil(want * source.sample_rate), mode, rng)
    if wave.shape[0] == 0:
        raise AudioProblem(f"{path}: audio file is empty (no samples)", "empty")
    wave = to_rate(wave, source.sample_rate, sample_rate, path)
    if want is not None:
        wave = fit_length(wave, round(want * sample_rate))
    return wave


def _crop(decoder: Decoder, length: int, mode: str, rng: np.random.Generator | None):
    total = decoder.source.num_frames
    start = _crop_start(total, length, mode, rng)
    # An estimated length may be short of the stream as well as long: read the whole crop.
    exact = decoder.source.exact
    wave = decoder.read(start, min(length, total - start) if exact else length)
    learned = decoder.source.num_frames
    if learned < total and start + length > learned:
        start = _crop_start(learned, length, mode, rng)
        wave = decoder.read(start, min(length, learned - start))
    return wave


def _check_not_empty(source: AudioSource) -> None:
    if source.num_frames == 0 and source.exact:
        raise AudioProblem(f"{source.path}: audio file is empty (no samples)", "empty")


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
) -> TrackWindows:
    """The whole track's windows one at a time (muscall.audio.track_windows); `.seconds` after."""
    return TrackWindows(path, sample_rate, window_seconds, hop_seconds, npy_sample_rate)


def check_audible(wave: np.ndarray, path: str | Path) -> None:
    """Reject whole files that are silent or hold NaN/inf: they would poison a batch."""
    if not np.isfinite(wave).all():
        raise AudioProblem(f"{path}: audio holds NaN or infinite samples", "non-finite")
    if not np.any(wave):
        raise AudioProblem(f"{path}: audio is silent (all samples are zero)", "silent")


def _crop_start(total: int, length: int, mode: str, rng: np.random.Generator | None) -> int:
    if total <= length or mode == "none":
        return 0
    if mode == "centre":
        return (total - length) // 2
    rng = rng if rng is not None else np.random.default_rng()
    return int(rng.integers(0, total - length + 1))
