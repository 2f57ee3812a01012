"""Opening an audio file by its content and reading spans of it, with one rule for its length.

Readers: `.npy` by plain reads, wav/flac/aiff/au by soundfile (exact headers, fast seeks),
everything else by FFmpeg (muscall.audio.av_decoder). Which one is decided by the first
bytes, never by the name.

The length rule: the decoded length is the truth. An exact header (PCM, FLAC, `.npy`) must
be met: a stream that ends sooner is truncated. A lossy format's header is an estimate
(encoder delay and padding, the last granule, VBR without a frame table): a stream that
ends short of it by at most `SHORT_SECONDS` or `SHORT_FRACTION` of its length, whichever is
more, is a good file of the decoded length (a debug line); one that ends shorter is
truncated, a named bad item. A decoder error followed by more audio is a bad item too. A
decode that reaches the end records the length, so later probes of the same unchanged file
in this process use it as exact.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf

from muscall.audio.av_decoder import AvDecoder, AvError
from muscall.audio.downmix import downmix
from muscall.audio.file_state import check_unchanged, os_problem, stat_audio
from muscall.audio.formats import reader_for
from muscall.audio.npy_io import NpyLayout, read_layout, read_span
from muscall.errors import AudioProblem

log = logging.getLogger(__name__)

# Rates outside these bounds are a broken header, not audio (telephone speech is 8 kHz).
MIN_SAMPLE_RATE = 4000
MAX_SAMPLE_RATE = 768000
# A stream may end this far short of its header and still be whole (see the module's rule).
SHORT_SECONDS = 1.0
SHORT_FRACTION = 0.05
# Decoded lengths learned in this process, by (path, size, mtime_ns); bounded.
_LEARNED: dict[tuple[str, int, int], int] = {}
_LEARNED_MAX = 200_000


@dataclass(frozen=True)
class AudioSource:
    """An opened audio file: how many frames it has at which rate, before any decoding.

    `size` and `mtime_ns` are the file's as probed: a decoder that finds others reports the
    file as changed rather than failing on it somewhere inside. `exact`: `num_frames` is the
    decoded length (an exact header, or one learned by decoding to the end); otherwise the
    header's estimate.
    """

    path: Path
    num_frames: int
    sample_rate: int
    size: int = -1
    mtime_ns: int = -1
    exact: bool = True
    reader: str = "soundfile"


@contextmanager
def _as_audio_problem(path: Path, what: str) -> Iterator[None]:
    """Any failure inside becomes one AudioProblem naming `path`: OS errors by their kind,
    everything else from a decoder as undecodable, `what (reason)`."""
    try:
        yield
    except AudioProblem:
        raise
    except OSError as error:
        raise os_problem(path, error) from error
    except Exception as error:  # noqa: BLE001 - decoder errors come in many types
        raise AudioProblem(f"{path}: {what} ({_reason(error)})", "undecodable") from error


def probe(path: Path, npy_sample_rate: int) -> AudioSource:
    """Open `path` cheaply (its header only) and report its length and rate.

    Every problem raises AudioProblem, one message naming the file, of a kind a report groups.
    """
    path = Path(path)
    stat = stat_audio(path)
    if stat.st_size == 0:
        raise AudioProblem(f"{path}: audio file is empty (0 bytes)", "empty")
    what = "cannot decode audio: corrupt, truncated or not audio"
    with _as_audio_problem(path, what), path.open("rb") as handle:
        reader = reader_for(handle.read(12))
        handle.seek(0)
        if reader == "npy":
            frames, rate, exact = read_layout(handle, path).frames, npy_sample_rate, True
        else:
            frames, rate, exact, reader = _probe_encoded(path, reader)
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioProblem(
            f"{path}: sample rate {rate} Hz is outside {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz",
            "sample rate",
        )
    learned = _LEARNED.get((str(path), stat.st_size, stat.st_mtime_ns))
    if learned is not None:
        frames, exact = learned, True
    return AudioSource(path, frames, rate, stat.st_size, stat.st_mtime_ns, exact, reader)


def _probe_encoded(path: Path, reader: str) -> tuple[int, int, bool, str]:
    """(frames, rate, exact, reader): soundfile where the bytes ask for it and it agrees."""
    if reader == "soundfile":
        try:
            info = sf.info(str(path))
            return int(info.frames), int(info.samplerate), True, "soundfile"
        except sf.LibsndfileError:
            pass  # a codec inside WAV that libsndfile lacks: FFmpeg may have it
    decoder = AvDecoder(path)
    try:
        return decoder.header_frames, decoder.sample_rate, False, "av"
    finally:
        decoder.close()


def shortfall_allowed(header_frames: int, sample_rate: int) -> int:
    """How many frames short of its header a stream may end and still be whole."""
    return max(round(SHORT_SECONDS * sample_rate), round(SHORT_FRACTION * header_frames))


def learn_length(source: AudioSource, frames: int) -> AudioSource:
    """Record that `source` decodes to `frames` frames; the source with that exact length."""
    if len(_LEARNED) >= _LEARNED_MAX:
        _LEARNED.clear()
    _LEARNED[(str(source.path), source.size, source.mtime_ns)] = frames
    return replace(source, num_frames=frames, exact=True)


class Decoder:
    """An open audio file read span by span; a span that follows the last one needs no seek.

    `end` is the decoded length once a read has reached the end of the stream (else None).
    """

    def __init__(self, source: AudioSource):
        self.source = source
        self.end: int | None = None
        self._file: sf.SoundFile | None = None
        self._handle: BinaryIO | None = None
        self._layout: NpyLayout | None = None
        self._av: AvDecoder | None = None

    def __enter__(self) -> Decoder:
        path = self.source.path
        check_unchanged(self.source)
        try:
            with _as_audio_problem(path, "cannot decode audio"):
                if self.source.reader == "npy":
                    self._handle = path.open("rb")
                    self._layout = read_layout(self._handle, path)
                elif self.source.reader == "av":
                    self._av = AvDecoder(path)
                else:
                    self._file = sf.SoundFile(str(path))
        except AudioProblem:
            self.__exit__()  # whatever opened before the failure
            raise
        return self

    def __exit__(self, *exc) -> None:
        for opened in (self._file, self._handle, self._av):
            if opened is not None:
                opened.close()

    def read(self, start: int, frames: int | None) -> np.ndarray:
        """Mono float32 frames [start, start + frames) of the file; None: to the end.

        Fewer come back only at the end of the stream, which the length rule then judges.
        """
        path = self.source.path
        with _as_audio_problem(path, "cannot decode audio"):
            wave = self._read(start, frames)
        if frames is None or wave.shape[0] < frames:
            self._ended(start + wave.shape[0])
        if not np.isfinite(wave).all():
            raise AudioProblem(f"{path}: audio holds NaN or infinite samples", "non-finite")
        return np.ascontiguousarray(wave, dtype=np.float32)

    def _read(self, start: int, frames: int | None) -> np.ndarray:
        if self._layout is not None:
            count = self._layout.frames - start if frames is None else frames
            return read_span(self._handle, self._layout, start, count, self.source.path)
        if self._av is not None:
            return self._av.read(start, frames)
        if self._file.tell() != start:
            self._file.seek(min(start, self._file.frames))
        count = -1 if frames is None else frames
        return downmix(self._file.read(count, dtype="float32", always_2d=True))

    def _ended(self, end: int) -> None:
        """The stream ended at frame `end`: whole (length recorded) or truncated (raises)."""
        header = self.source.num_frames
        if end < header and (
            self.source.exact or header - end > shortfall_allowed(header, self.source.sample_rate)
        ):
            check_unchanged(self.source)
            raise AudioProblem(
                f"{self.source.path}: truncated: decoding stopped at frame {end} of the "
                f"{header} its header promises",
                "undecodable",
            )
        if end != header:
            log.debug("%s: decodes to %d frames, its header says %d", self.source.path, end, header)
        self.end = end
        self.source = learn_length(self.source, end)


def _reason(error: Exception) -> str:
    if isinstance(error, AvError):
        return str(error)
    return getattr(error, "strerror", None) or str(error)
