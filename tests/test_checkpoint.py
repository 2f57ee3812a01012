"""A checkpoint describes itself: it loads from its path alone, safely, in a fresh process."""

import json
import os
import subprocess
import sys

import pytest
import torch
from omegaconf import OmegaConf

from muscall.checkpoint import FORMAT_VERSION, load_checkpoint, project_version
from muscall.config import HUB_OFFLINE
from muscall.errors import MuscallError
from tests.helpers.datasets import SMALL_RUN_TEMPLATES

# Run here and in a fresh interpreter: the embeddings of a fixed waveform and caption.
PROBE = """
import json, math, sys
import torch
from muscall.checkpoint import load_checkpoint

def probe(path):
    checkpoint = load_checkpoint(path)
    t = torch.arange(16000) / 16000
    wave = (0.3 * torch.sin(2 * math.pi * 220.0 * t))[None]  # (1, T): one second at 220 Hz
    with torch.inference_mode():
        audio_emb = checkpoint.net.encode_audio(wave)[0]
        text_emb = checkpoint.net.embed_text(["a warm tone"])[0]
    return {
        "audio_emb": audio_emb.tolist(),
        "text_emb": text_emb.tolist(),
        "preprocessing": checkpoint.preprocessing,
        "templates": checkpoint.zeroshot_templates,
        "training": checkpoint.net.training,
    }
"""


def _probe_here(path):
    namespace = {}
    exec(PROBE, namespace)  # noqa: S102 - the same code as the subprocess runs
    return namespace["probe"](path)


@pytest.fixture(scope="module")
def best(small_run):
    return small_run["metrics"]["best_checkpoint"]


def test_a_fresh_process_rebuilds_the_network_from_the_path_alone(best, tmp_path):
    code = PROBE + "\nprint(json.dumps(probe(sys.argv[1])))\n"
    env = {**os.environ, **HUB_OFFLINE}
    env.pop("PYTHONPATH", None)
    # Run from elsewhere: no config, no source tree, only the installed package and the file.
    done = subprocess.run(
        [sys.executable, "-c", code, best],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    there = json.loads(done.stdout.strip().splitlines()[-1])
    here = _probe_here(best)
    assert there["training"] is False and here["training"] is False  # loaded in eval mode
    for key in ("audio_emb", "text_emb"):
        assert len(there[key]) == 32  # model=tiny's embed_dim
        torch.testing.assert_close(
            torch.tensor(there[key]), torch.tensor(here[key]), atol=1e-5, rtol=0
        )
    assert there["preprocessing"] == here["preprocessing"]
    assert there["templates"] == SMALL_RUN_TEMPLATES


@pytest.mark.parametrize("name", ["best", "last"])
def test_best_and_last_checkpoints_load_with_weights_only(small_run, best, name):
    path = best if name == "best" else small_run["out"] / "checkpoints" / "last.ckpt"
    saved = torch.load(path, weights_only=True)  # raises on anything but tensors and plain data
    meta = saved["muscall"]
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["muscall_version"] == project_version() != "unknown"
    # YAML text, so no loader ever instantiates it by accident.
    assert isinstance(meta["net_config"], str)
    net_config = OmegaConf.create(meta["net_config"])
    assert net_config._target_ == "muscall.models.DualEncoder" and net_config.embed_dim == 32
    assert meta["preprocessing"] == {
        "sample_rate": 16000,
        "clip_seconds": 1.0,
        "eval_crop": "windows",
        "eval_clip_seconds": None,
        "eval_hop_seconds": 0.25,
    }
    assert meta["zeroshot_templates"] == SMALL_RUN_TEMPLATES


def test_loaded_weights_are_the_trained_weights(best):
    checkpoint = load_checkpoint(best)
    saved = torch.load(best, weights_only=True)["state_dict"]
    loaded = checkpoint.net.state_dict()
    assert loaded.keys() == {k.removeprefix("net.") for k in saved if k.startswith("net.")}
    for key, value in loaded.items():
        assert torch.equal(value, saved[f"net.{key}"]), key
    assert checkpoint.format_version == FORMAT_VERSION
    assert checkpoint.muscall_version == project_version()


def _rewrite(best, path, change):
    saved = torch.load(best, weights_only=True)
    change(saved)
    torch.save(saved, path)
    return path


def test_a_checkpoint_from_a_newer_format_asks_for_an_upgrade(best, tmp_path):
    def newer(saved):
        saved["muscall"]["format_version"] = FORMAT_VERSION + 1

    path = _rewrite(best, tmp_path / "newer.ckpt", newer)
    with pytest.raises(MuscallError, match="upgrade muscall"):
        load_checkpoint(path)


def test_a_checkpoint_from_before_format_1_loads_without_preprocessing(best, tmp_path):
    # The earlier layout: only the network config, as a mapping.
    def older(saved):
        net_config = OmegaConf.to_container(OmegaConf.create(saved["muscall"]["net_config"]))
        saved["muscall"] = {"net_config": net_config}

    checkpoint = load_checkpoint(_rewrite(best, tmp_path / "old.ckpt", older))
    assert checkpoint.format_version == 0 and checkpoint.preprocessing is None
    assert checkpoint.zeroshot_templates is None


class NotPlainData:
    pass


def test_unusable_files_raise_one_clear_error(best, tmp_path):
    with pytest.raises(MuscallError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "missing.ckpt")
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(MuscallError, match="not a muscall training checkpoint"):
        load_checkpoint(foreign)
    # A pickled object could run code on load: weights_only refuses it.
    pickled = tmp_path / "pickled.ckpt"
    torch.save({"muscall": {"net_config": "{}"}, "payload": NotPlainData()}, pickled)
    with pytest.raises(MuscallError, match="not a readable checkpoint"):
        load_checkpoint(pickled)
