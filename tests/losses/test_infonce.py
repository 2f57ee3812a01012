"""InfoNCE against a by-hand log-softmax reference, weighted, and with an injected gather
(both `local_loss` modes; the real 2-process gather is in tests/lightning/test_distributed.py)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from muscall.losses import InfoNCE, pair_logits


def _unit(*shape: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(*shape, generator=gen, dtype=torch.float64), dim=-1)


def _naive_direction(queries, keys, scale, weights):
    """Σ w_i (−log softmax_j(scale · q_i·k_j)[i]) / Σ w_i, one row at a time."""
    total, weight_sum = 0.0, 0.0
    for i in range(len(queries)):
        row = [scale * float(queries[i] @ keys[j]) for j in range(len(keys))]
        peak = max(row)
        log_norm = peak + math.log(sum(math.exp(x - peak) for x in row))
        total += weights[i] * (log_norm - row[i])
        weight_sum += weights[i]
    return total / weight_sum


def _naive_infonce(audio, text, scale, weights=None):
    weights = [1.0] * len(audio) if weights is None else [float(w) for w in weights]
    return 0.5 * (
        _naive_direction(audio, text, scale, weights)
        + _naive_direction(text, audio, scale, weights)
    )


@pytest.mark.parametrize("size,scale", [(1, 14.3), (5, 1.0), (8, 14.3), (16, 100.0)])
def test_matches_naive_reference(size, scale):
    audio, text = _unit(size, 6, seed=size), _unit(size, 6, seed=size + 100)
    loss = InfoNCE()(audio, text, torch.tensor(scale, dtype=torch.float64))
    assert loss.item() == pytest.approx(_naive_infonce(audio, text, scale), rel=1e-9)


def test_is_symmetric_in_the_two_modalities():
    audio, text = _unit(6, 4, seed=1), _unit(6, 4, seed=2)
    loss = InfoNCE()
    assert loss(audio, text, 10.0).item() == pytest.approx(loss(text, audio, 10.0).item())
    one_sided = F.cross_entropy(pair_logits(audio, text, 10.0), torch.arange(6))
    assert not math.isclose(loss(audio, text, 10.0).item(), one_sided.item(), rel_tol=1e-6)


def test_equal_weights_equal_unweighted():
    audio, text = _unit(7, 5, seed=3), _unit(7, 5, seed=4)
    loss = InfoNCE()
    plain = loss(audio, text, 20.0)
    weighted = loss(audio, text, 20.0, torch.full((7,), 3.5, dtype=torch.float64))
    assert weighted.item() == pytest.approx(plain.item(), rel=1e-12)


def test_weighted_matches_naive_reference():
    audio, text = _unit(6, 5, seed=5), _unit(6, 5, seed=6)
    weights = torch.tensor([0.1, 2.0, 0.5, 3.0, 1.0, 0.01], dtype=torch.float64)
    loss = InfoNCE()(audio, text, 14.0, weights)
    assert loss.item() == pytest.approx(_naive_infonce(audio, text, 14.0, weights), rel=1e-9)
    assert loss.item() != pytest.approx(_naive_infonce(audio, text, 14.0), rel=1e-3)


def _fake_gather(local_audio, local_text, audio, text, rank):
    """All-gather stand-in: the local rows replace rank's slice of the fixed global batch."""
    size = local_audio.shape[0]

    def gather(local):
        full = audio if local is local_audio else text
        return torch.cat([full[: rank * size], local, full[(rank + 1) * size :]])

    return gather


def test_gather_hook_matches_full_batch_computation():
    world, size, scale = 3, 4, 12.0
    audio, text = _unit(world * size, 5, seed=7), _unit(world * size, 5, seed=8)
    labels = torch.arange(world * size)
    per_audio, per_text = pair_logits(audio, text, scale), pair_logits(text, audio, scale)
    full = (F.cross_entropy(per_audio, labels) + F.cross_entropy(per_text, labels)) / 2
    per_device = []
    for rank in range(world):
        local = slice(rank * size, (rank + 1) * size)
        a_local, t_local = audio[local].clone(), text[local].clone()
        gather = _fake_gather(a_local, t_local, audio, text, rank)
        value = InfoNCE(gather=gather, rank=lambda r=rank: r)(a_local, t_local, scale)
        # Reference: this device's rows of the global logits, in both directions.
        expected = (
            F.cross_entropy(per_audio[local], labels[local])
            + F.cross_entropy(per_text[local], labels[local])
        ) / 2
        assert value.item() == pytest.approx(expected.item(), rel=1e-9)
        per_device.append(value)
    # Averaged over devices, the local losses are the loss of the whole global batch.
    assert (sum(per_device) / world).item() == pytest.approx(full.item(), rel=1e-9)


def _global_reference(audio, text, scale, weights=None):
    """One process holding the whole global batch."""
    return InfoNCE()(audio, text, scale, weights)


@pytest.mark.parametrize("local_loss", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_both_gather_modes_average_to_the_global_loss(local_loss, weighted):
    world, size, scale = 3, 4, 12.0
    audio, text = _unit(world * size, 5, seed=20), _unit(world * size, 5, seed=21)
    # Weights whose per-device sums differ: a plain mean of per-device weighted means is wrong.
    weights = torch.linspace(0.1, 5.0, world * size, dtype=torch.float64) if weighted else None
    per_device = []
    for rank in range(world):
        local = slice(rank * size, (rank + 1) * size)
        a_local, t_local = audio[local].clone(), text[local].clone()
        loss = InfoNCE(gather=_fake_gather(a_local, t_local, audio, text, rank), rank=rank)
        loss.local_loss = local_loss
        per_device.append(loss(a_local, t_local, scale, weights).item())
    full = _global_reference(audio, text, scale, weights).item()
    if not local_loss:  # every device computes the global loss itself
        assert per_device == pytest.approx([full] * world, rel=1e-12)
    assert sum(per_device) / world == pytest.approx(full, rel=1e-9)
    if weighted:
        shares = [weights[r * size : (r + 1) * size].sum() for r in range(world)]
        assert shares[0] < shares[-1] / 2  # the per-device normalisation does matter here


def test_eval_mode_never_gathers():
    def refuse(_):
        raise AssertionError("gathered in eval mode")

    audio, text = _unit(4, 3, seed=22), _unit(4, 3, seed=23)
    loss = InfoNCE(gather=refuse, rank=1).eval()
    assert loss(audio, text, 5.0).item() == pytest.approx(InfoNCE()(audio, text, 5.0).item())
    with pytest.raises(AssertionError, match="eval mode"):
        loss.train()(audio, text, 5.0)


def test_gathered_weights_must_cover_the_global_batch():
    audio, text = _unit(2, 3, seed=24), _unit(2, 3, seed=25)
    loss = InfoNCE(gather=lambda x: torch.cat([x, x]), rank=0)
    with pytest.raises(ValueError, match=r"one per pair of the global batch, shape \(4,\)"):
        loss(audio, text, 5.0, torch.ones(2, dtype=torch.float64))


def test_gather_hook_passes_gradient_to_local_embeddings():
    others = _unit(4, 3, seed=9)
    audio = _unit(2, 3, seed=10).requires_grad_()
    text = _unit(2, 3, seed=11).requires_grad_()
    loss = InfoNCE(gather=lambda x: torch.cat([others[:2], x, others[2:]]), rank=1)
    loss(audio, text, 5.0).backward()
    assert audio.grad.abs().sum() > 0 and text.grad.abs().sum() > 0


def test_gradient_reaches_embeddings_and_logit_scale():
    audio = _unit(4, 3, seed=12).float().requires_grad_()
    text = _unit(4, 3, seed=13).float().requires_grad_()
    log_scale = torch.tensor(math.log(1 / 0.07), requires_grad=True)
    InfoNCE()(audio, text, log_scale.exp(), torch.rand(4)).backward()
    for grad in (audio.grad, text.grad, log_scale.grad):
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_labels_are_cached_per_size_and_device():
    loss = InfoNCE()
    loss(_unit(3, 2, seed=14), _unit(3, 2, seed=15), 1.0)
    first = loss._labels[(3, 0, torch.device("cpu"))]
    loss(_unit(3, 2, seed=16), _unit(3, 2, seed=17), 1.0)
    loss(_unit(5, 2, seed=18), _unit(5, 2, seed=19), 1.0)
    assert loss._labels[(3, 0, torch.device("cpu"))] is first
    assert set(loss._labels) == {(3, 0, torch.device("cpu")), (5, 0, torch.device("cpu"))}
    assert not list(loss.state_dict())  # the cache never reaches a checkpoint


def test_rejects_mismatched_shapes_and_weights():
    with pytest.raises(ValueError, match="paired"):
        InfoNCE()(torch.zeros(3, 4), torch.zeros(2, 4), 1.0)
    with pytest.raises(ValueError, match="one per pair"):
        InfoNCE()(torch.zeros(3, 4), torch.zeros(3, 4), 1.0, torch.ones(2))
