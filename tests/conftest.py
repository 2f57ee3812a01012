"""Test set-up: offline everything, small CPU runs, outputs under tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

from muscall.config import compose_config, go_offline

go_offline(strict=True)
os.environ.setdefault("OMP_NUM_THREADS", "2")

import pytest  # noqa: E402
import torch  # noqa: E402

from tests.helpers.datasets import (  # noqa: E402
    MANY_WORDS,
    SMALL_RUN_TEMPLATES,
    write_tiny_dataset,
    write_word_set,
)

torch.set_num_threads(2)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    """One tiny dataset per test module, read only: a test that changes files writes its own."""
    return write_tiny_dataset(tmp_path_factory.mktemp("data") / "tiny")


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
