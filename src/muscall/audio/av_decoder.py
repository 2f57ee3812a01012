"""Reading compressed audio through FFmpeg (PyAV): mp3, ogg vorbis, opus, m4a AAC/ALAC, webm, ...

A span [start, start + frames) is decoded from a seek a little before `start` (the codec's
pre-roll: AAC's overlap, Opus's 80 ms, mp3's bit reservoir), placed by the frames' time
stamps, so a training crop is the same samples a decode from the beginning gives there.
Positions count from the stream's first output sample (FFmpeg has already dropped the
encoder delay that a LAME tag, an mp4 edit list or Opus's pre-skip declares).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from muscall.audio.downmix import downmix

# Decoded before a seeked span and thrown away; longer than the codec's pre-roll. An mp3
# frame may take its data from up to 511 bytes before it (the bit reservoir), which at a low
# bitrate is several frames: until the decoder has those bytes it outputs silence.
PREROLL_SECONDS = 0.1
MP3_PREROLL_SECONDS = 0.6
# An integer sample of this dtype is scaled to [-1, 1) by this factor.
_SCALE = {np.dtype(np.int16): 2.0**-15, np.dtype(np.int32): 2.0**-31, np.dtype(np.uint8): 2.0**-7}

av.logging.set_level(av.logging.PANIC)  # FFmpeg's warnings would flood a worker's stderr
logging.getLogger("libav").setLevel(logging.CRITICAL)


class AvError(Exception):
    """FFmpeg could not open or decode the file; the message says why."""


class AvDecoder:
    """An audio file opened by FFmpeg: its rate, its header's length, and spans read on demand.

    `header_frames` is what the container states (an estimate for most lossy formats);
    `end` is the decoded length, known once a read has reached the end of the stream.
    """

    def __init__(self, path: Path):
        self._path = str(path)
        try:
            self._container = av.open(self._path, metadata_errors="ignore")
        except av.FFmpegError as error:
            raise AvError(_reason(error)) from error
        streams = self._container.streams.audio
        if not streams:
            self._container.close()
            raise AvError("no audio stream (a video or an image?)")
        self._stream = streams[0]
        self.sample_rate = int(self._stream.codec_context.sample_rate or 0)
        self.header_frames = self._header_frames()
        self.end: int | None = None
        self._frames: Iterator[tuple[int, np.ndarray]] | None = None
        self._pending: tuple[int, np.ndarray] | None = None  # decoded, not yet handed out
        self._next = 0  # position of the sample the next sequential read starts at
        self._origin: int | None = None  # time stamp of the first sample

    def close(self) -> None:
        self._container.close()

    def read(self, start: int, frames: int | None) -> np.ndarray:
        """Mono float32 frames [start, start + frames), fewer at the stream's end; None: to the end."""
        if self._frames is None or start != self._next:
            self._seek(start)
        parts, have = [], 0
        while frames is None or have < frames:
            item = self._pending or next(self._frames, None)
            self._pending = None
            if item is None:
                break
            position, wave = item
            skip = max(0, start + have - position)
            take = wave[skip:] if frames is None else wave[skip : skip + frames - have]
            if skip + len(take) < len(wave):
                self._pending = (position + skip + len(take), wave[skip + len(take) :])
            if len(take):
                parts.append(take)
                have += len(take)
        self._next = start + have
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    def _seek(self, start: int) -> None:
        stream = self._stream
        preroll = MP3_PREROLL_SECONDS if "mp3" in stream.codec_context.name else PREROLL_SECONDS
        first = start - round(preroll * self.sample_rate)
        # Time stamps coarser than a sample (webm's milliseconds) cannot place a span exactly:
        # those files are decoded onwards from where they are, or from the start.
        if first <= 0 or stream.time_base > Fraction(1, self.sample_rate):
            if self._frames is None or start < self._next:
                self._restart()
            return
        if self._origin is None:  # the first frame's time stamp: learn it before seeking
            self._restart()
            self._pending = next(self._frames, None)
            if self._origin is None:
                return
        self._pending = None
        offset = int(first / self.sample_rate / stream.time_base) + self._origin
        self._container.seek(offset, stream=stream, backward=True)
        self._frames = self._decode(seeked=True)
        item = next(self._frames, None)
        if item is None or item[0] > start:
            # No time stamps, or the demuxer landed after the span: decode from the beginning.
            self._restart()
        else:
            self._pending = item

    def _restart(self) -> None:
        """Decode from the first sample; reopened, so the encoder delay is dropped again."""
        self._pending = None
        if self._frames is not None:
            self._container.close()
            self._container = av.open(self._path, metadata_errors="ignore")
            self._stream = self._container.streams.audio[0]
        self._frames = self._decode(seeked=False)

    def _decode(self, seeked: bool) -> Iterator[tuple[int, np.ndarray]]:
        """(position, mono frames) for every decoded frame from here to the end of the stream.

        After a seek, positions come from the first frame's time stamp, and decoder errors
        before it are the pre-roll's (no bit reservoir yet). Later, an error on the last
        packet ends the stream (a player stops there too; the length rule then judges the
        shortfall); one followed by more audio raises AvError.
        """
        stream, position, failed, placed = self._stream, 0, None, not seeked
        for packet in self._container.demux(stream):
            try:
                decoded = packet.decode()
            except av.FFmpegError as error:
                failed = error if placed else None
                continue
            for frame in decoded:
                if failed is not None:
                    at = position / self.sample_rate
                    raise AvError(f"decoder error before {at:.2f} s ({_reason(failed)})")
                if not placed:
                    if frame.pts is None:
                        return
                    offset = frame.pts - self._origin
                    position = round(offset * stream.time_base * self.sample_rate)
                    placed = True
                elif self._origin is None and position == 0:
                    # Positions count from the first sample decoded from the start, whose
                    # time stamp is not always the stream's start time (a short ogg file).
                    self._origin = frame.pts
                wave = _mono(frame)
                yield position, wave
                position += len(wave)
        self.end = position

    def _header_frames(self) -> int:
        stream = self._stream
        if stream.duration:
            return round(stream.duration * stream.time_base * self.sample_rate)
        if self._container.duration:
            return round(self._container.duration / av.time_base * self.sample_rate)
        return 0


def _mono(frame: av.AudioFrame) -> np.ndarray:
    """One decoded frame as mono float32 samples."""
    array = frame.to_ndarray()
    channels = len(frame.layout.channels)
    frames = array.T if frame.format.is_planar else array.reshape(-1, channels)
    scale = _SCALE.get(frames.dtype)
    if scale is not None:
        offset = 128 if frames.dtype == np.uint8 else 0
        frames = (frames.astype(np.float32) - offset) * np.float32(scale)
    return downmix(frames)


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error)
