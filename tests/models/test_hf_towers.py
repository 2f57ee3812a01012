"""Hugging Face text and audio towers built from tiny local folders: pooling, limits, freezing,
self-contained files, and the one-line error for a hub name offline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from muscall.errors import MuscallError
from muscall.models import (
    DualEncoder,
    HFAudioEncoder,
    HFFeatureExtractor,
    HFTextEncoder,
    HFTokenizer,
)
from muscall.models.hf_bundle import net_files, with_bundled_files
from muscall.models.hf_hub import from_pretrained
from muscall.models.hf_text import pool_tokens
from tests.helpers import hf_models
from tests.helpers.hf_models import TEXT_POSITIONS

hf_folders = hf_models.hf_folders  # the tiny models' folders, a session fixture


def test_tokenizer_keeps_the_models_real_caption_limit(hf_folders):
    tokenizer = HFTokenizer(str(hf_folders["roberta"]))
    assert tokenizer.limit == TEXT_POSITIONS  # RoBERTa's table less its two offset rows
    tokens = tokenizer(["tone " * 100, "a warm tone"])
    assert tokens["input_ids"].shape == (2, TEXT_POSITIONS)
    assert tokens["attention_mask"][1].sum() < TEXT_POSITIONS  # padded to the longest
    assert HFTokenizer(str(hf_folders["roberta"]), max_length=8)(["tone " * 100])[
        "input_ids"
    ].shape == (1, 8)


def test_pooling_picks_first_mean_or_last_real_token():
    states = torch.arange(2 * 4 * 1, dtype=torch.float).reshape(2, 4, 1)  # (B, L, D)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])
    assert pool_tokens(states, mask, "cls").flatten().tolist() == [0.0, 4.0]
    assert pool_tokens(states, mask, "eos").flatten().tolist() == [2.0, 7.0]
    assert pool_tokens(states, mask, "mean").flatten().tolist() == [1.0, 5.5]


def test_text_tower_ignores_padding_with_every_pooling(hf_folders):
    path = str(hf_folders["roberta"])
    tokenizer = HFTokenizer(path)
    for pooling in ("cls", "mean", "eos"):
        encoder = HFTextEncoder(path, pooling=pooling).eval()
        alone = encoder(tokenizer(["a warm tone"]))
        padded = encoder(tokenizer(["a warm tone", "a calm solo piano piece"]))[:1]
        torch.testing.assert_close(alone, padded, atol=1e-5, rtol=1e-5)


def test_feature_extractor_in_torch_equals_transformers(hf_folders):
    frontend = HFFeatureExtractor(str(hf_folders["wav2vec2"]))
    assert frontend.sample_rate == 16000
    wave = torch.randn(2, 4000) * 0.3 + 0.1
    ours = frontend(wave)["input_values"]
    theirs = frontend.extractor(list(wave.numpy()), sampling_rate=16000, return_tensors="pt")
    torch.testing.assert_close(ours, theirs["input_values"], atol=1e-5, rtol=1e-4)


def test_audio_tower_pools_over_time_and_mixes_layers(hf_folders):
    path = str(hf_folders["wav2vec2"])
    features = HFFeatureExtractor(path)(torch.randn(3, 8000) * 0.1)
    mixed = HFAudioEncoder(path, layer_weights=True).eval()
    assert mixed.layer_weights.shape == (3,)  # 2 layers + the embeddings
    assert mixed(features).shape == (3, mixed.output_dim)
    # All weight on the last layer: the plain tower's output.
    with torch.no_grad():
        mixed.layer_weights.copy_(torch.tensor([-1e4, -1e4, 0.0]))
    plain = HFAudioEncoder(path).eval()
    torch.testing.assert_close(mixed(features), plain(features), atol=1e-5, rtol=1e-5)
    with pytest.raises(MuscallError, match="pooling=pooler"):
        HFAudioEncoder(path, pooling="pooler", layer_weights=True)


def test_frozen_tower_gets_no_gradient_until_it_thaws(hf_folders):
    path = str(hf_folders["roberta"])
    tokens = HFTokenizer(path)(["a warm tone"])
    frozen = HFTextEncoder(path, freeze=True)
    assert not any(p.requires_grad for p in frozen.parameters())
    thawing = HFTextEncoder(path, freeze=True, unfreeze_after_steps=2).train()
    assert not thawing.model.training  # no dropout while frozen
    head = torch.ones(thawing.output_dim, requires_grad=True)  # a projection that always learns
    for step in range(3):
        thawing.set_step(step)
        thawing.zero_grad()
        (thawing(tokens) @ head).sum().backward()
        got_grad = any(p.grad is not None for p in thawing.parameters())
        assert got_grad == (step >= 2)
    assert thawing.model.training


def test_bundled_files_rebuild_the_net_without_its_folder(hf_folders, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSCALL_CACHE", str(tmp_path / "cache"))
    text, audio = str(hf_folders["roberta"]), str(hf_folders["wav2vec2"])
    config = {
        "_target_": "muscall.models.DualEncoder",
        "embed_dim": 8,
        "frontend": {"_target_": "muscall.models.HFFeatureExtractor", "name_or_path": audio},
        "audio_encoder": {
            "_target_": "muscall.models.HFAudioEncoder",
            "name_or_path": audio,
            "pretrained": True,
        },
        "text_encoder": {
            "_target_": "muscall.models.HFTextEncoder",
            "name_or_path": text,
            "pretrained": True,
        },
        "tokenizer": {"_target_": "muscall.models.HFTokenizer", "name_or_path": text},
    }
    from hydra.utils import instantiate

    net = instantiate(config).eval()
    files = net_files(net)
    assert set(files) == {text, audio}
    rebuilt_config = with_bundled_files(config, files)
    assert rebuilt_config["audio_encoder"]["pretrained"] is False
    assert str(tmp_path / "cache") in rebuilt_config["tokenizer"]["name_or_path"]
    rebuilt = instantiate(rebuilt_config).eval()
    rebuilt.load_state_dict(net.state_dict())
    wave = torch.randn(2, 8000) * 0.1
    texts = ["a warm tone", "a calm solo piano piece"]
    with torch.no_grad():
        torch.testing.assert_close(rebuilt.encode_audio(wave), net.encode_audio(wave))
        torch.testing.assert_close(rebuilt.embed_text(texts), net.embed_text(texts))
    assert isinstance(rebuilt, DualEncoder)


@pytest.mark.parametrize("name", ["laion/larger_clap_music", "roberta-base"])
def test_a_hub_name_offline_fails_in_one_line_saying_how_to_download(name, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from transformers import AutoConfig

    with pytest.raises(MuscallError) as caught:
        from_pretrained(AutoConfig, name, "model config")
    message = str(caught.value)
    assert "\n" not in message
    assert f"huggingface-cli download {name} --local-dir DIR" in message
    assert "HF_HUB_OFFLINE=1" in message


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(MuscallError, match="no such folder"):
        HFTextEncoder(str(tmp_path / "nowhere" / "model"))


def test_waveform_frontend_output_is_batch_independent(hf_folders):
    frontend = HFFeatureExtractor(str(hf_folders["wav2vec2"]))
    waves = torch.from_numpy(np.random.default_rng(0).normal(size=(3, 4000)).astype("float32"))
    together = frontend(waves)["input_values"]
    alone = frontend(waves[1:2])["input_values"]
    torch.testing.assert_close(together[1:2], alone)
