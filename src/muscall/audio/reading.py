"""Reading audio clips: `.npy` arrays or any soundfile format, cropped, mono, resampled.

Every unusable file raises AudioProblem (an AudioError): one message naming the file and
why, with the kind of problem for reports (muscall.data.bad_items.KINDS).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from muscall.audio.file_state import check_unchanged, os_problem, stat_audio
from muscall.audio.npy_io import NpyLayout, read_layout, read_span
from muscall.errors import AudioProblem

CROP_MODES = ("random", "centre", "none")
# Rates outside these bounds are a broken header, not audio (telephone speech is 8 kHz).
MIN_SAMPLE_RATE = 4000
MAX_SAMPLE_RATE = 768000


@dataclass(frozen=True)
class AudioSource:
    """An opened audio file: how many frames it has at which rate, before any decoding.

    `size` and `mtime_ns` are the file's as probed: a decoder that finds others reports the
    file as changed rather than failing on it somewhere inside.
    """

    path: Path
    num_frames: int
    sample_rate: int
    size: int = -1
    mtime_ns: int = -1


def probe(path: Path, npy_sample_rate: int) -> AudioSource:
    """Open `path` cheaply (its header only) and report its length and rate.

    Every problem raises AudioProblem, one message naming the file, of a kind a report groups.
    """
    path = Path(path)
    stat = stat_audio(path)
    if stat.st_size == 0:
        raise AudioProblem(f"{path}: audio file is empty (0 bytes)", "empty")
    try:
        with path.open("rb") as handle:
            if _is_npy(path):
                frames, rate = read_layout(handle, path).frames, npy_sample_rate
            else:
                info = sf.info(str(path))
                frames, rate = int(info.frames), int(info.samplerate)
    except AudioProblem:
        raise
    except OSError as error:
        raise os_problem(path, error) from error
    except Exception as error:  # noqa: BLE001 - decoder errors come in many types
        raise AudioProblem(
            f"{path}: cannot decode audio: corrupt, truncated or not audio ({error})",
            "undecodable",
        ) from error
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioProblem(
            f"{path}: sample rate {rate} Hz is outside {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz",
            "sample rate",
        )
    return AudioSource(path, frames, rate, stat.st_size, stat.st_mtime_ns)


def check_whole_file(path: Path, npy_sample_rate: int, block_frames: int = 2**18) -> AudioSource:
    """Decode every frame of `path` once, block by block: raises if any is unusable.

    Catches what a crop may miss: truncation past the crop, NaN/inf anywhere, a silent file,
    a file that changed while it was read.
    """
    source = probe(Path(path), npy_sample_rate)
    if source.num_frames == 0:
        raise AudioProblem(f"{path}: audio file is empty (no samples)", "empty")
    audible = False
    with _Decoder(source) as decoder:
        for start in range(0, source.num_frames, block_frames):
            wave = decoder.read(start, min(block_frames, source.num_frames - start))
            audible = audible or bool(np.any(wave))
    check_unchanged(source)
    if not audible:
        raise AudioProblem(f"{path}: audio is silent (all samples are zero)", "silent")
    return source


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
        raise AudioProblem(f"{path}: audio file is empty (no samples)", "empty")
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
        raise AudioProblem(f"{path}: audio file is empty (no samples)", "empty")
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
        raise AudioProblem(f"{path}: audio holds NaN or infinite samples", "non-finite")
    if not np.any(wave):
        raise AudioProblem(f"{path}: audio is silent (all samples are zero)", "silent")


def _is_npy(path: Path) -> bool:
    return path.suffix.lower() == ".npy"


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
        self._handle: BinaryIO | None = None
        self._layout: NpyLayout | None = None

    def __enter__(self) -> _Decoder:
        path = self.source.path
        check_unchanged(self.source)
        try:
            if _is_npy(path):
                self._handle = path.open("rb")
                self._layout = read_layout(self._handle, path)
            else:
                self._file = sf.SoundFile(str(path))
        except AudioProblem:
            self.__exit__()
            raise
        except OSError as error:
            self.__exit__()
            raise os_problem(path, error) from error
        except Exception as error:  # noqa: BLE001 - decoder errors come in many types
            self.__exit__()
            raise AudioProblem(f"{path}: cannot decode audio ({error})", "undecodable") from error
        return self

    def __exit__(self, *exc) -> None:
        for opened in (self._file, self._handle):
            if opened is not None:
                opened.close()

    def read(self, start: int, frames: int) -> np.ndarray:
        """Mono float32 frames [start, start + frames) of the file."""
        path = self.source.path
        try:
            if self._layout is not None:
                wave = read_span(self._handle, self._layout, start, frames, path)
            else:
                if self._file.tell() != start:
                    self._file.seek(start)
                wave = downmix(self._file.read(frames, dtype="float32", always_2d=True))
        except AudioProblem:
            raise
        except OSError as error:
            raise os_problem(path, error) from error
        except Exception as error:  # noqa: BLE001 - decoder errors come in many types
            raise AudioProblem(f"{path}: cannot decode audio ({error})", "undecodable") from error
        promised = max(0, min(frames, self.source.num_frames - start))
        if wave.shape[0] < promised:
            self._short(start + wave.shape[0])
        if not np.isfinite(wave).all():
            raise AudioProblem(f"{path}: audio holds NaN or infinite samples", "non-finite")
        return np.ascontiguousarray(wave, dtype=np.float32)

    def _short(self, stopped: int) -> None:
        check_unchanged(self.source)
        raise AudioProblem(
            f"{self.source.path}: truncated: decoding stopped at frame {stopped} of the "
            f"{self.source.num_frames} its header promises",
            "undecodable",
        )


def _to_rate(wave: np.ndarray, source_rate: int, target_rate: int, path) -> np.ndarray:
    if source_rate == target_rate:
        return wave
    if source_rate <= 0:
        raise AudioProblem(f"{path}: invalid sample rate {source_rate}", "sample rate")
    resampled = AF.resample(torch.from_numpy(wave), source_rate, target_rate)
    return resampled.numpy().astype(np.float32, copy=False)


def downmix(frames: np.ndarray) -> np.ndarray:
    """(T, C) frames -> mono (T,), the mean over channels.

    Channel by channel: numpy's mean along a short last axis takes as long as decoding the
    file did (18 ms for 20 s of 44.1 kHz stereo); for stereo the result is the same bits.
    """
    mono = frames[:, 0].astype(np.float32, copy=True)
    for channel in range(1, frames.shape[1]):
        mono += frames[:, channel]
    if frames.shape[1] > 1:
        mono *= np.float32(1 / frames.shape[1])
    return mono


def fit_length(wave: np.ndarray, samples: int) -> np.ndarray:
    """`wave` cut or zero-padded at the end to `samples`."""
    if wave.shape[0] >= samples:
        return wave[:samples]
    return np.pad(wave, (0, samples - wave.shape[0]))
