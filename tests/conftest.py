"""Test set-up: offline everything, small CPU runs, outputs under tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

from muscall.config import compose_config, go_offline

go_offline(strict=True)
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
# One word (and pitch) per track of a 24-track split: retrieval that is neither saturated nor
# tied, so a metric can move and a wrong evaluation path shows in the numbers.
MANY_WORDS = (
    *WORDS,
    *("warm", "cold", "sharp", "round", "thin", "deep", "hollow", "airy", "glassy", "muddy"),
    *("clean", "dusty", "shiny", "plain", "sweet", "harsh", "gentle", "heavy"),
)


def write_tiny_dataset(
    root,
    counts=(12, 4, 4),
    seconds=1.5,
    sample_rate=16000,
    name="tiny",
    words=WORDS,
    semitones=6,
):
    """A dataset of tones in MusCALL's layout: each clip's pitch is named in its caption.

    Clip i gets word i mod len(words), pitched `semitones` above the previous word's.
    """
    import json

    import numpy as np

    root.mkdir(parents=True, exist_ok=True)
    (root / "audio").mkdir(exist_ok=True)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    clip = 0
    for split, count in zip(("train", "val", "test"), counts, strict=True):
        entries = []
        for _ in range(count):
            word = words[clip % len(words)]
            freq = 110.0 * 2 ** (words.index(word) * semitones / 12)
            wave = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
            path = f"audio/clip{clip:03d}.npy"
            np.save(root / path, wave)
            entries.append(
                {"audio_id": f"clip{clip:03d}", "caption": f"a {word} tone", "audio_path": path}
            )
            clip += 1
        (root / f"{name}_{split}.json").write_text(json.dumps(entries))
    return root


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    """One tiny dataset per test module, read only: a test that changes files writes its own."""
    return write_tiny_dataset(tmp_path_factory.mktemp("data") / "tiny")


def write_word_set(dataset, split="test", name="words"):
    """A labelled zero-shot set of a split's clips: the classes are the caption words."""
    import json

    entries = json.loads((dataset / f"tiny_{split}.json").read_text())
    items = [
        {"audio_path": f"../{e['audio_path']}", "label": e["caption"].split()[1]} for e in entries
    ]
    (dataset / "sets").mkdir(exist_ok=True)
    path = dataset / "sets" / f"{name}.json"
    path.write_text(json.dumps({"type": "classification", "items": items}))
    return path


def tiny_run(dataset, *extra, batch_size=4, workers=0):
    """Overrides of a small CPU training run of the tiny model on `dataset`, plus `extra`."""
    return [
        "model=tiny",
        "trainer=cpu",
        "data=folder",
        f"data.root={dataset}",
        "data.clip_seconds=1.0",
        f"data.batch_size={batch_size}",
        f"data.num_workers={workers}",
        "trainer.enable_progress_bar=false",
        *extra,
    ]


# Not the config's default templates: evaluating the checkpoint must find these in it.
SMALL_RUN_TEMPLATES = ["a {} tone", "{} sound"]


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    """One 3-epoch training run shared by every test that inspects a finished run.

    24/24/24 tracks of 24 distinct words, so validation and test retrieval are neither
    saturated nor tied; non-default preprocessing (1 s clips, whole-track windows 0.25 s
    apart) and prompt templates, which evaluating the checkpoint must take from it.
    Returns a dict: out, metrics, data, set_file, overrides. Tests must not write into it.
    """
    from muscall.tasks import train

    data = write_tiny_dataset(
        tmp_path_factory.mktemp("small_data") / "tiny",
        counts=(24, 24, 24),
        words=MANY_WORDS,
        semitones=3,
    )
    set_file = write_word_set(data)
    templates = ",".join(f"'{t}'" for t in SMALL_RUN_TEMPLATES)
    overrides = [
        "model=tiny",
        "trainer=cpu",
        "data=folder",
        f"data.root={data}",
        "data.clip_seconds=1.0",
        "data.eval_hop_seconds=0.25",
        "data.batch_size=8",
        "data.num_workers=0",
        f"+data.zeroshot_sets.words={set_file}",
        f"zeroshot.templates=[{templates}]",
        "trainer.max_epochs=3",
        "trainer.enable_progress_bar=false",
        "seed=0",
    ]
    out = tmp_path_factory.mktemp("small_run")
    metrics = train.run(compose_config(overrides, out))
    return {
        "out": out,
        "metrics": metrics,
        "data": data,
        "set_file": set_file,
        "overrides": overrides,
    }


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint of the tiny model after one training step: enough to run every evaluation."""
    from muscall.tasks import train

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
    train.run(compose_config(overrides, out))
    return out / "checkpoints" / "last.ckpt"
