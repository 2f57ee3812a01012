"""Shared pieces of the dataset-preparation tests: tiny audio files in real formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
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


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint of the tiny model after one training step: enough to run every evaluation."""
    from muscall.tasks import train

    from ..conftest import write_tiny_dataset
    from ..tasks.conftest import compose_cfg

    data = write_tiny_dataset(tmp_path_factory.mktemp("ckpt_data") / "tiny")
    out = tmp_path_factory.mktemp("ckpt_run")
    overrides = [
        "model=tiny",
        "data=folder",
        f"data.root={data}",
        "data.clip_seconds=1.0",
        "data.batch_size=4",
        "data.num_workers=0",
        "trainer=cpu",
        "trainer.max_epochs=1",
        "trainer.limit_train_batches=1",
        "trainer.enable_progress_bar=false",
        "task.zeroshot_after_fit=false",
        "task.test_after_fit=false",
    ]
    train.run(compose_cfg(out, overrides))
    return out / "checkpoints" / "last.ckpt"
