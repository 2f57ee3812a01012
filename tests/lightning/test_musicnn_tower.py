"""Training with the pretrained musicnn tower: it unfreezes on schedule, trains at its own rate,
and its checkpoint holds its weights, so loading needs no musicnn package."""

import json
import os
import subprocess
import sys

import pytest
import torch
from hydra.utils import instantiate

from muscall.config import HUB_OFFLINE, compose_config
from muscall.losses import InfoNCE
from muscall.models.musicnn import pretrained_tagger
from tests.helpers.datasets import write_tiny_dataset

# A fresh interpreter in which `import musicnn` fails: the checkpoint alone must suffice.
PROBE = """
import json, math, sys
sys.modules["musicnn"] = None
import torch
from muscall.checkpoint import load_checkpoint

net = load_checkpoint(sys.argv[1]).net
t = torch.arange(16000) / 16000
with torch.inference_mode():
    audio_emb = net.encode_audio((0.3 * torch.sin(2 * math.pi * 220.0 * t))[None])[0]
print(json.dumps(audio_emb.tolist()))
"""


@pytest.fixture(scope="module")
def musicnn_run(tmp_path_factory):
    from muscall.tasks import train

    data = write_tiny_dataset(tmp_path_factory.mktemp("musicnn_data") / "tiny")
    out = tmp_path_factory.mktemp("musicnn_run")
    overrides = [
        "model=tiny",
        "model/audio@model.net=musicnn_msd",
        "model.net.audio_encoder.unfreeze_after_epochs=1",
        "data=folder",
        f"data.root={data}",
        "data.clip_seconds=1.0",
        "data.batch_size=4",
        "data.num_workers=0",
        "trainer=cpu",
        "trainer.max_epochs=2",
        "trainer.limit_train_batches=1",
        "trainer.limit_val_batches=1",
        "trainer.num_sanity_val_steps=0",
        "trainer.enable_progress_bar=false",
        "task.zeroshot_after_fit=false",
        "task.test_after_fit=false",
    ]
    train.run(compose_config(overrides, out))
    return out / "checkpoints" / "last.ckpt"


def test_the_tower_unfroze_and_trained_in_its_second_epoch(musicnn_run):
    state = torch.load(musicnn_run, weights_only=True)["state_dict"]
    trained = state["net.audio_encoder.body.timbral.0.weight"]
    packaged = pretrained_tagger("msd").body.timbral[0].weight
    assert trained.shape == packaged.shape and not torch.equal(trained, packaged)


def test_the_checkpoint_loads_without_the_musicnn_package(musicnn_run, tmp_path):
    env = {**os.environ, **HUB_OFFLINE}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(musicnn_run)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    there = torch.tensor(json.loads(done.stdout.strip().splitlines()[-1]))
    from muscall.checkpoint import load_checkpoint

    net = load_checkpoint(musicnn_run).net
    t = torch.arange(16000) / 16000
    with torch.inference_mode():
        here = net.encode_audio((0.3 * torch.sin(2 * torch.pi * 220.0 * t))[None])[0]
    torch.testing.assert_close(there, here, atol=1e-5, rtol=0)


def test_the_audio_tower_learns_at_its_own_rate(tmp_path):
    cfg = compose_config(["model=tiny", "model/audio@model.net=musicnn_mtt"], tmp_path).model
    cfg.net.audio_encoder.unfreeze_after_epochs = 0
    module = instantiate(cfg, loss=InfoNCE(), audio_lr_scale=0.1, metadata={})
    module.trainer = type("T", (), {"estimated_stepping_batches": 10})()
    groups = module.configure_optimizers()["optimizer"].param_groups
    audio = {id(p) for p in module.net.audio_encoder.parameters()}
    assert audio <= {id(p) for g in groups for p in g["params"]}
    for group in groups:
        ids = {id(p) for p in group["params"]}
        assert ids <= audio or not ids & audio
        assert group["lr"] == pytest.approx(cfg.optimizer.lr * (0.1 if ids <= audio else 1.0))
