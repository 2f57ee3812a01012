"""Hugging Face models train, evaluate and reload offline: a tiny CLAP trained, exported
and loaded again with its source folder deleted (slow: the same through the real
`python src/run.py task=train` and a fresh process); tiny wav2vec2- and RoBERTa-style towers
through task=train and task=retrieval."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

import muscall
from muscall.config import PROJECT_ROOT, compose_config
from muscall.errors import MuscallError
from muscall.tasks import export, retrieval, train
from tests.helpers import hf_models
from tests.helpers.datasets import tiny_run

QUICK = [
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=2",
    "task.zeroshot_after_fit=false",
    "task.check_leakage=false",
    "plots.enabled=false",
    "seed=0",
]
TEXTS = ["a warm tone", "a deep tone"]

hf_folders = hf_models.hf_folders  # the tiny models' folders, a session fixture


def _run(args: list[str], cwd=PROJECT_ROOT, timeout: int = 300) -> subprocess.CompletedProcess:
    path = os.pathsep.join([str(PROJECT_ROOT / "src"), str(PROJECT_ROOT)])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": path}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def clap_run(tmp_path_factory, hf_folders, tiny_dataset):
    """Two steps of model=hf_clap, exported too; then the source folder is deleted."""
    root = tmp_path_factory.mktemp("clap_run")
    source = shutil.copytree(hf_folders["clap"], root / "clap")
    overrides = [
        *tiny_run(tiny_dataset, *QUICK),
        "model=hf_clap",
        f"model.net.name_or_path={source}",
    ]
    metrics = train.run(compose_config(overrides, root / "train"))
    best = metrics["best_checkpoint"]
    export.run(
        compose_config(["task=export", f"ckpt_path={best}", f"out={root / 'export'}"], root / "e")
    )
    reference = _embeddings(muscall.load(best, device="cpu"))
    shutil.rmtree(source)
    return root, metrics, reference


def _embeddings(model) -> dict:
    tone = np.sin(np.arange(model.sample_rate) * 0.05).astype(np.float32)
    return {
        "text": model.embed_text(TEXTS).tolist(),
        "audio": model.embed_audio(tone).tolist(),
        "rate": model.sample_rate,
    }


def _assert_same(got: dict, reference: dict) -> None:
    assert got["rate"] == reference["rate"]
    for key in ("text", "audio"):
        torch.testing.assert_close(torch.tensor(got[key]), torch.tensor(reference[key]))


def test_clap_trains_at_its_own_rate(clap_run):
    root, metrics, reference = clap_run
    assert metrics["steps"] == 2
    assert 0.0 <= metrics["test/text_to_audio_R@10"] <= 100.0
    assert "sample_rate: 8000" in (root / "train" / "config.yaml").read_text()  # not 16000
    assert reference["rate"] == 8000


def test_clap_checkpoint_and_export_load_with_the_source_gone(clap_run, tmp_path, monkeypatch):
    root, metrics, reference = clap_run
    monkeypatch.setenv("MUSCALL_CACHE", str(tmp_path / "cache"))  # nothing unpacked before
    _assert_same(_embeddings(muscall.load(metrics["best_checkpoint"], device="cpu")), reference)
    _assert_same(_embeddings(muscall.load(root / "export", device="cpu")), reference)
    assert any((tmp_path / "cache" / "hf").iterdir())


# Loads the model given and prints _embeddings of it as one JSON line.
_EMBED = """
import json, sys
import muscall
from tests.tasks.test_hf_training import _embeddings
print(json.dumps(_embeddings(muscall.load(sys.argv[1], device="cpu"))))
"""


@pytest.mark.slow
def test_the_command_line_trains_clap_and_a_fresh_process_reloads_it_offline(
    hf_folders, tiny_dataset, tmp_path
):
    source = shutil.copytree(hf_folders["clap"], tmp_path / "clap")
    overrides = tiny_run(tiny_dataset, *QUICK, f"paths.log_dir={tmp_path}/out")
    overrides += ["model=hf_clap", f"model.net.name_or_path={source}"]
    done = _run(["src/run.py", "task=train", *overrides])
    assert done.returncode == 0, done.stderr[-3000:]
    best = json.loads(next((tmp_path / "out").rglob("metrics.json")).read_text())["best_checkpoint"]
    reference = _embeddings(muscall.load(best, device="cpu"))
    shutil.rmtree(source)
    os.environ["MUSCALL_CACHE"] = str(tmp_path / "cache")
    try:
        again = _run(["-c", _EMBED, best], cwd=PROJECT_ROOT)
    finally:
        os.environ.pop("MUSCALL_CACHE")
    assert again.returncode == 0, again.stderr[-3000:]
    _assert_same(json.loads(again.stdout.splitlines()[-1]), reference)


def test_wav2vec2_and_roberta_towers_train_and_evaluate(hf_folders, tiny_dataset, tmp_path):
    towers = [
        "model/audio@model.net=hf",
        f"model.net.audio_encoder.name_or_path={hf_folders['wav2vec2']}",
        "model.net.audio_encoder.layer_weights=true",
        "model/text@model.net=hf",
        f"model.net.text_encoder.name_or_path={hf_folders['roberta']}",
        "model.net.text_encoder.pooling=cls",
        "model.net.text_encoder.freeze=true",
        "model.net.text_encoder.unfreeze_after_steps=1",
        "model.text_lr_scale=0.1",
        "model.audio_lr_scale=0.5",
    ]
    metrics = train.run(compose_config(tiny_run(tiny_dataset, *QUICK, *towers), tmp_path / "t"))
    assert metrics["steps"] == 2
    evaluated = retrieval.run(
        compose_config(
            [
                "task=retrieval",
                *tiny_run(tiny_dataset),
                f"ckpt_path={metrics['best_checkpoint']}",
            ],
            tmp_path / "r",
        )
    )
    assert evaluated["num_tracks"] == 4
    assert evaluated["text_to_audio_R@10"] == pytest.approx(metrics["test/text_to_audio_R@10"])


def test_a_hub_name_offline_stops_the_run_in_one_line(tiny_dataset, tmp_path):
    overrides = [
        *tiny_run(tiny_dataset),
        "model=hf_clap",
        "model.net.name_or_path=laion/larger_clap_music",
    ]
    with pytest.raises(MuscallError) as caught:
        train.run(compose_config(overrides, tmp_path))
    message = str(caught.value)
    assert "\n" not in message
    assert "huggingface-cli download laion/larger_clap_music --local-dir DIR" in message


def test_hf_checkpoint_path_evaluates_clap_as_it_is(hf_folders, tiny_dataset, tmp_path):
    cfg = compose_config(
        ["task=retrieval", *tiny_run(tiny_dataset), f"ckpt_path=hf:{hf_folders['clap']}"],
        tmp_path,
    )
    metrics = retrieval.run(cfg)
    assert metrics["num_tracks"] == 4 and 0.0 <= metrics["text_to_audio_R@10"] <= 100.0
    with pytest.raises(MuscallError, match="huggingface-cli download"):
        retrieval.run(
            compose_config(
                ["task=retrieval", *tiny_run(tiny_dataset), "ckpt_path=hf:nobody/no_such_clap"],
                tmp_path / "missing",
            )
        )
