"""Test set-up: offline everything, small CPU runs, outputs under tmp_path."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["WANDB_MODE"] = "offline"
os.environ["WANDB_SILENT"] = "true"
os.environ.setdefault("OMP_NUM_THREADS", "2")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(2)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


WORDS = ("low", "middle", "high", "bright", "dark", "soft")


def write_tiny_dataset(root, counts=(12, 4, 4), seconds=1.5, sample_rate=16000, name="tiny"):
    """A seed-layout dataset of tones: each clip's pitch is named in its caption."""
    import json

    import numpy as np

    root.mkdir(parents=True, exist_ok=True)
    (root / "audio").mkdir(exist_ok=True)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    clip = 0
    for split, count in zip(("train", "val", "test"), counts, strict=True):
        entries = []
        for _ in range(count):
            word = WORDS[clip % len(WORDS)]
            freq = 110.0 * 2 ** (WORDS.index(word) / 2)
            wave = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
            path = f"audio/clip{clip:03d}.npy"
            np.save(root / path, wave)
            entries.append(
                {"audio_id": f"clip{clip:03d}", "caption": f"a {word} tone", "audio_path": path}
            )
            clip += 1
        (root / f"{name}_{split}.json").write_text(json.dumps(entries))
    return root


@pytest.fixture
def tiny_dataset(tmp_path):
    return write_tiny_dataset(tmp_path / "tiny")
