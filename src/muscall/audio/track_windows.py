"""A whole track as windows, decoded once from start to end, its length learned on the way.

The last window ends at the track's end, and a lossy file's header only estimates where
that is; decoding sequentially finds it without a second pass. A 30-minute track never sits
in memory: the buffer holds one window and one decoded block.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from muscall.audio.source import Decoder, probe
from muscall.audio.wave_ops import fit_length, resampled_length, to_rate
from muscall.errors import AudioProblem

BLOCK_FRAMES = 2**17


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


class TrackWindows:
    """The track's windows at `sample_rate`, placed as `window_starts` places them.

    Iterate once; `seconds` is the decoded length afterwards. Each window's span is cut from
    the file in its own rate and resampled alone.
    """

    def __init__(self, path, sample_rate, window_seconds, hop_seconds, npy_sample_rate):
        self.source = probe(Path(path), npy_sample_rate)
        if self.source.num_frames == 0 and self.source.exact:
            raise AudioProblem(f"{path}: audio file is empty (no samples)", "empty")
        self.sample_rate = sample_rate
        self.window = round(window_seconds * sample_rate)
        self.hop = round((hop_seconds or window_seconds) * sample_rate)
        if self.window <= 0 or self.hop <= 0:
            raise ValueError(f"window ({self.window}) and hop ({self.hop}) must be positive")
        self.seconds: float | None = None

    def __iter__(self) -> Iterator[np.ndarray]:
        rate, window = self.source.sample_rate, self.window
        span = math.ceil(window * rate / self.sample_rate)  # one window, in the file's rate
        buffer, first, end, start = np.zeros(0, np.float32), 0, 0, 0
        with Decoder(self.source) as decoder:
            while decoder.end is None:
                wave = decoder.read(end, max(span, BLOCK_FRAMES))
                buffer, end = np.concatenate([buffer, wave]), end + wave.shape[0]
                # A window is final once audio follows it: the last one ends at the end.
                while start + window < resampled_length(end, rate, self.sample_rate):
                    yield self._cut(buffer, first, start, span)
                    start += self.hop
                keep = max(first, min(start * rate // self.sample_rate, end - span - 1))
                buffer, first = buffer[keep - first :], keep
        if end == 0:
            raise AudioProblem(f"{self.source.path}: audio file is empty (no samples)", "empty")
        self.seconds = end / rate
        total = resampled_length(end, rate, self.sample_rate)
        yield self._cut(buffer, first, max(0, total - window), span)

    def _cut(self, buffer: np.ndarray, first: int, start: int, span: int) -> np.ndarray:
        """The window at `start` (target rate) from `buffer`, which begins at frame `first`."""
        offset = start * self.source.sample_rate // self.sample_rate - first
        wave = buffer[offset : offset + span]
        return fit_length(
            to_rate(wave, self.source.sample_rate, self.sample_rate, self.source.path), self.window
        )
