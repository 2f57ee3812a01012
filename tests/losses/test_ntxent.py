"""NT-Xent against a naive loop over the 2B views."""

import math

import pytest
import torch
import torch.nn.functional as F

from muscall.losses import NTXent


def _naive(view_a, view_b, temperature):
    z = [F.normalize(v, dim=0) for v in torch.cat([view_a, view_b])]
    size, total = view_a.shape[0], 0.0
    for i in range(2 * size):
        positive = (i + size) % (2 * size)
        sims = {k: float(z[i] @ z[k]) / temperature for k in range(2 * size) if k != i}
        denominator = sum(math.exp(s) for s in sims.values())
        total += -math.log(math.exp(sims[positive]) / denominator)
    return total / (2 * size)


@pytest.mark.parametrize("temperature", [0.1, 0.5, 1.0])
def test_equals_the_naive_reference(temperature):
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 6, 5, generator=generator, dtype=torch.float64)
    got = NTXent(temperature)(a, b)
    assert float(got) == pytest.approx(_naive(a, b, temperature), rel=1e-9)


def test_is_symmetric_and_scale_free():
    a, b = torch.randn(2, 8, 16, generator=torch.Generator().manual_seed(1))
    loss = NTXent(0.5)
    torch.testing.assert_close(loss(a, b), loss(b, a))
    torch.testing.assert_close(loss(3 * a, 0.5 * b), loss(a, b))


def test_matching_views_score_lower_than_shuffled_ones():
    a = torch.randn(8, 16, generator=torch.Generator().manual_seed(2))
    loss = NTXent(0.1)
    assert loss(a, a + 0.01 * a.flip(1)) < loss(a, a.roll(1, dims=0))


def test_gradients_reach_both_views():
    views = torch.randn(2, 4, 8, generator=torch.Generator().manual_seed(3)).requires_grad_()
    NTXent(0.5)(views[0], views[1]).backward()
    assert torch.isfinite(views.grad).all() and views.grad.abs().sum(dim=(1, 2)).gt(0).all()


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="two \\(B, D\\) views"):
        NTXent()(torch.randn(4, 8), torch.randn(3, 8))
    with pytest.raises(ValueError, match="temperature"):
        NTXent(0.0)
