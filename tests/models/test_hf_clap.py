"""A transformers ClapModel behind muscall: `hf:NAME_OR_DIR` embeds exactly as
get_text_features / get_audio_features do, and exports to a folder that needs no source."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

import muscall
from muscall.errors import MuscallError
from muscall.export.folder import save_model_folder
from tests.helpers import hf_models

TEXTS = ["a warm tone", "a calm solo piano piece", "jazz"]

hf_folders = hf_models.hf_folders  # the tiny models' folders, a session fixture


@pytest.fixture(scope="module")
def clap_reference(hf_folders):
    from transformers import AutoProcessor, ClapModel

    folder = hf_folders["clap"]
    return ClapModel.from_pretrained(folder).eval(), AutoProcessor.from_pretrained(folder)


def test_hf_checkpoint_embeds_as_transformers_does(hf_folders, clap_reference):
    clap, processor = clap_reference
    model = muscall.load(f"hf:{hf_folders['clap']}", device="cpu")
    rate = processor.feature_extractor.sampling_rate
    assert model.sample_rate == rate and model.window_seconds == 1.0
    with torch.no_grad():
        tokens = processor.tokenizer(TEXTS, padding=True, return_tensors="pt")
        text_ref = clap.get_text_features(**tokens).pooler_output
    torch.testing.assert_close(model.embed_text(TEXTS), text_ref, atol=1e-5, rtol=1e-5)
    # One window's worth of audio per clip: the window is the extractor's own clip length.
    waves = np.random.default_rng(0).normal(scale=0.1, size=(2, rate)).astype(np.float32)
    with torch.no_grad():
        features = processor.feature_extractor(list(waves), sampling_rate=rate, return_tensors="pt")
        audio_ref = clap.get_audio_features(**features).pooler_output
    torch.testing.assert_close(model.embed_audio(waves), audio_ref, atol=1e-5, rtol=1e-5)
    norms = model.embed_audio(waves).norm(dim=-1)
    torch.testing.assert_close(norms, torch.ones(2))


def test_exported_folder_loads_with_the_source_gone(hf_folders, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSCALL_CACHE", str(tmp_path / "cache"))
    source = shutil.copytree(hf_folders["clap"], tmp_path / "clap")
    model = muscall.load(f"hf:{source}", device="cpu")
    folder = save_model_folder(model.checkpoint, tmp_path / "export")
    expected = model.embed_text(TEXTS)
    shutil.rmtree(source)
    again = muscall.load(folder, device="cpu")
    torch.testing.assert_close(again.embed_text(TEXTS), expected)
    assert again.sample_rate == model.sample_rate
    assert again.fingerprint == model.fingerprint


def test_hf_checkpoint_needs_a_name():
    with pytest.raises(MuscallError, match="ckpt_path=hf:"):
        muscall.load("hf:", device="cpu")


def test_onnx_export_says_to_use_the_model_folder(hf_folders, tmp_path):
    from muscall.export.onnx import export_onnx

    model = muscall.load(f"hf:{hf_folders['clap']}", device="cpu")
    with pytest.raises(MuscallError, match="format=safetensors"):
        export_onnx(model.net, tmp_path / "onnx")
