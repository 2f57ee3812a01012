"""Tiny audio files in real formats, as users' tools write them, and broken ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def write_tone(
    path: Path,
    seconds: float = 1.0,
    sample_rate: int = 22050,
    freq: float = 440.0,
    channels: int = 1,
    subtype: str | None = None,
) -> Path:
    """A sine tone in the format of `path`'s suffix (.wav, .flac, .ogg, .mp3)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    wave = 0.3 * np.sin(2 * np.pi * freq * t)
    data = np.stack([wave] * channels, axis=1) if channels > 1 else wave
    fmt = {".mp3": "MP3", ".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}[path.suffix.lower()]
    sf.write(path, data.astype(np.float32), sample_rate, format=fmt, subtype=subtype)
    return path


def write_corrupt(path: Path) -> Path:
    """A file with an audio name and garbage inside, like a truncated download."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF\x00\x00\x00\x00not really audio" * 4)
    return path
