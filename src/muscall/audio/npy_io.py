"""`.npy` waveforms read span by span through plain file reads: no memory map, no pickle.

A memory-mapped file that shrinks while mapped kills its reader with SIGBUS; a read that comes
up short is reported instead. Object arrays (pickles) are refused from the header, unread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.lib import format as npy_format

from muscall.errors import AudioProblem

# MusCALL's layout: mono (N,) or channels-first (C, N) with at most this many channels.
MAX_CHANNELS = 8


@dataclass(frozen=True)
class NpyLayout:
    """Where a waveform's samples lie in its file."""

    frames: int
    channels: int
    dtype: np.dtype
    fortran: bool
    offset: int


def read_layout(handle: BinaryIO, path: Path) -> NpyLayout:
    """Parse and check the header: floating-point samples of shape (N,) or (C, N), all there."""
    try:
        version = npy_format.read_magic(handle)
        read_header = {
            (1, 0): npy_format.read_array_header_1_0,
            (2, 0): npy_format.read_array_header_2_0,
        }.get(version)
        if read_header is None:
            raise ValueError(f"unsupported .npy format version {version}")
        shape, fortran, dtype = read_header(handle)
    except (ValueError, OSError, SyntaxError) as error:
        raise AudioProblem(f"{path}: not a readable .npy file ({error})", "undecodable") from error
    if dtype.hasobject:
        raise AudioProblem(
            f"{path}: .npy holds Python objects (a pickle); refused, never unpickled", "bad array"
        )
    if dtype.kind != "f":
        raise AudioProblem(
            f"{path}: .npy dtype {dtype}; expected floating-point samples (float16/32/64)",
            "bad array",
        )
    layout = _layout(shape, dtype, fortran, handle.tell(), path)
    _check_size(layout, path)
    return layout


def read_span(handle: BinaryIO, layout: NpyLayout, start: int, frames: int, path: Path):
    """Mono float32 frames [start, start + frames), averaged over channels."""
    size = layout.dtype.itemsize
    frames = max(0, min(frames, layout.frames - start))
    if layout.channels == 1 or layout.fortran:
        # Frames are contiguous (interleaved when channels-first in Fortran order).
        offset = layout.offset + start * layout.channels * size
        wave = _read(handle, offset, frames * layout.channels, layout, path)
        wave = wave.reshape(frames, layout.channels).mean(axis=1, dtype=np.float32)
    else:
        rows = [
            _read(handle, layout.offset + (c * layout.frames + start) * size, frames, layout, path)
            for c in range(layout.channels)
        ]
        wave = np.mean(rows, axis=0, dtype=np.float32)
    return wave


def _layout(shape, dtype, fortran: bool, offset: int, path: Path) -> NpyLayout:
    if len(shape) == 1:
        return NpyLayout(shape[0], 1, dtype, False, offset)
    if len(shape) == 2 and shape[0] <= MAX_CHANNELS:
        return NpyLayout(shape[1], shape[0], dtype, fortran, offset)
    raise AudioProblem(
        f"{path}: expected a waveform of shape (N,) or (channels, N), got {tuple(shape)}",
        "bad array",
    )


def _check_size(layout: NpyLayout, path: Path) -> None:
    need = layout.offset + layout.frames * layout.channels * layout.dtype.itemsize
    have = path.stat().st_size
    if have < need:
        raise AudioProblem(
            f"{path}: truncated .npy: the header promises {need} bytes, the file has {have}",
            "undecodable",
        )


def _read(handle: BinaryIO, offset: int, count: int, layout: NpyLayout, path: Path) -> np.ndarray:
    handle.seek(offset)
    want = count * layout.dtype.itemsize
    data = handle.read(want)
    if len(data) < want:
        raise AudioProblem(
            f"{path}: changed while being read: {len(data)} of {want} bytes at offset {offset} "
            "were there (was it being written?)",
            "changed",
        )
    return np.frombuffer(data, dtype=layout.dtype).astype(np.float32)
