"""Content-aware weights against MusCALL's formula written out literally, and their cache."""

from __future__ import annotations

import math
import pickle

import pytest
import torch
import torch.nn.functional as F

from muscall.losses import ContentAwareWeighting, content_weights
from tests.helpers.embedders import fixed_embedder


def _captions_emb(size: int, seed: int, shared: float = 1.0) -> torch.Tensor:
    """Unit vectors with a common component, so Σ s is clearly positive as for real captions."""
    gen = torch.Generator().manual_seed(seed)
    emb = torch.randn(size, 8, generator=gen, dtype=torch.float64)
    emb[:, 0] += shared * 3
    return F.normalize(emb, dim=-1)


def _naive_weights(emb: torch.Tensor, temperature: float, inverse: bool) -> list[float]:
    """s_i = (1/B) Σ_{j≠i} e_i·e_j, ŝ_i = s_i / Σ s, w_i = exp(±ŝ_i / T), rescaled to mean 1."""
    size = len(emb)
    s = [sum(float(emb[i] @ emb[j]) for j in range(size) if j != i) / size for i in range(size)]
    total = sum(s)
    sign = -1.0 if inverse else 1.0
    w = [math.exp(sign * s_i / total / temperature) for s_i in s]
    return [size * w_i / sum(w) for w_i in w]


@pytest.mark.parametrize("inverse", [False, True])
@pytest.mark.parametrize("size,temperature", [(2, 0.01), (6, 0.01), (12, 0.05), (32, 0.01)])
def test_matches_naive_formula(size, temperature, inverse):
    emb = _captions_emb(size, seed=size)
    weights = content_weights(emb, temperature, inverse)
    assert weights.shape == (size,)
    assert weights.tolist() == pytest.approx(_naive_weights(emb, temperature, inverse), rel=1e-5)
    assert weights.mean().item() == pytest.approx(1.0)


def test_inverse_reverses_the_ordering():
    emb = _captions_emb(10, seed=1)
    plain, inverse = content_weights(emb, 0.05), content_weights(emb, 0.05, inverse=True)
    assert torch.equal(plain.argsort(), inverse.argsort().flip(0))


def test_caption_similar_to_the_batch_weighs_more():
    # Captions 0 and 1 are near-duplicates, 2 points elsewhere: 0 and 1 share more.
    emb = F.normalize(torch.tensor([[1.0, 0.1, 0.0], [1.0, 0.0, 0.1], [0.3, 1.0, 0.0]]), dim=-1)
    weights = content_weights(emb, temperature=0.5)
    assert weights[0] > weights[2] and weights[1] > weights[2]
    inverse = content_weights(emb, temperature=0.5, inverse=True)
    assert inverse[0] < inverse[2] and inverse[1] < inverse[2]


def test_negative_total_similarity_keeps_the_direction():
    # Σ s < 0: MusCALL's division by Σ s would favour the least similar caption instead.
    emb = torch.tensor([[1.0, 0.0], [-0.8, 0.6], [-0.6, -0.8]])
    emb = F.normalize(emb, dim=-1)
    sim = emb @ emb.T
    s = (sim.sum(1) - sim.diagonal()) / 3
    assert s.sum() < 0
    weights = content_weights(emb, temperature=0.5)
    assert torch.equal(weights.argsort(), s.argsort())


def test_near_zero_total_similarity_stays_finite():
    # Orthogonal captions: every s_i, hence Σ s, is 0 up to rounding.
    emb = torch.eye(4) + 1e-9 * torch.randn(4, 4)
    for inverse in (False, True):
        weights = content_weights(F.normalize(emb, dim=-1), inverse=inverse)
        assert torch.isfinite(weights).all()
        assert torch.allclose(weights, torch.ones(4))


def test_tiny_positive_total_stays_finite():
    emb = F.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1e-3, 1.0]]), dim=-1)
    weights = content_weights(emb)
    assert torch.isfinite(weights).all() and weights.sum().item() == pytest.approx(3.0)


def test_batch_of_one_weighs_one():
    assert content_weights(F.normalize(torch.randn(1, 5), dim=-1)).tolist() == [1.0]


def test_rejects_bad_inputs():
    with pytest.raises(ValueError, match="temperature"):
        content_weights(torch.ones(2, 2), temperature=0.0)
    with pytest.raises(ValueError, match=r"\(B, E\)"):
        content_weights(torch.ones(3))


def test_weighting_uses_the_injected_embedder_and_device():
    weighting = ContentAwareWeighting(temperature=0.05, embedder=fixed_embedder)
    captions = ["a slow piano", "fast drums", "a slow piano", "dark synth pads"]
    weights = weighting(captions, device="cpu")
    assert torch.allclose(weights, content_weights(fixed_embedder(captions), 0.05))
    assert weights[0] == weights[2]  # the same caption, the same weight
    assert weighting(captions, device="meta").device.type == "meta"


def test_weighting_is_not_a_module():
    # Assigned to a LightningModule, an nn.Module would be registered, trained and saved.
    assert not isinstance(ContentAwareWeighting(embedder=fixed_embedder), torch.nn.Module)


def test_weighting_pickles():
    weighting = ContentAwareWeighting(temperature=0.2, inverse=True, embedder=fixed_embedder)
    clone = pickle.loads(pickle.dumps(weighting))
    assert (clone.temperature, clone.inverse) == (0.2, True)


def test_across_devices_weighs_the_global_batch():
    # Device 1 of 2: the gather stands in for device 0's captions, placed first (rank order).
    mine = ["a slow piano", "fast drums"]
    theirs = ["dark synth pads", "a slow piano, again"]
    weighting = ContentAwareWeighting(temperature=0.05, embedder=fixed_embedder)
    gathered = []

    def gather(local):
        gathered.append(local)
        return torch.cat([fixed_embedder(theirs), local])

    weights = weighting.across_devices(mine, gather, device="cpu")
    assert torch.allclose(weights, content_weights(fixed_embedder(theirs + mine), 0.05))
    assert weights.shape == (4,) and weights.mean().item() == pytest.approx(1.0)
    # Not the local batch's weights: the other device's captions change them.
    assert not torch.allclose(weights[2:], weighting(mine), atol=1e-3)
    (sent,) = gathered
    assert sent.shape == (2, 8) and not sent.requires_grad
