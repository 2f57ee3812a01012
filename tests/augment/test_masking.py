"""SpecAugment masks on the log-mel: whole bands, per example, the example's mean as fill."""

import pytest
import torch

from muscall.augment import MelMask

AXES = {"freq": 2, "time": 3}


def _mel(batch=16, bands=32, frames=40) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return -80 + 60 * torch.rand(batch, 1, bands, frames, generator=generator)


def _masked_rows(mel, out, axis) -> torch.Tensor:
    """(B, S): which rows (bands or frames) along `axis` the mask replaced."""
    other = 3 if axis == "freq" else 2
    return (out != mel).any(dim=other).squeeze(1)


@pytest.mark.parametrize("axis", AXES)
def test_p1_masks_whole_bands_of_every_example_with_its_mean(axis):
    torch.manual_seed(0)
    mel = _mel()
    out = MelMask(axis, max_width=0.25, masks=2, p=1.0).train()(mel)
    assert out.shape == mel.shape
    hit = _masked_rows(mel, out, axis)  # (B, S)
    assert hit.any(dim=1).all()
    size = mel.shape[AXES[axis]]
    assert (hit.sum(dim=1) <= 2 * int(0.25 * size)).all()
    means = mel.mean(dim=(1, 2, 3))
    for example in range(mel.shape[0]):
        band = out[example].index_select(AXES[axis] - 1, hit[example].nonzero().squeeze(1))
        assert torch.allclose(band, means[example].expand_as(band))
    assert not torch.equal(hit, hit[:1].expand_as(hit))  # each example its own bands


@pytest.mark.parametrize("axis", AXES)
def test_p0_and_eval_are_the_identity(axis):
    mel = _mel()
    assert MelMask(axis, max_width=0.5, p=0.0).train()(mel) is mel
    assert MelMask(axis, max_width=0.5, p=1.0).eval()(mel) is mel


def test_the_probability_is_drawn_per_example():
    torch.manual_seed(0)
    mel = _mel(batch=64)
    hit = _masked_rows(mel, MelMask("time", max_width=0.2, p=0.5).train()(mel), "time")
    assert 0 < int(hit.any(dim=1).sum()) < 64


def test_deterministic_under_a_seed():
    mel, mask = _mel(), MelMask("freq", max_width=0.3, masks=3, p=0.5).train()
    torch.manual_seed(1)
    first = mask(mel)
    torch.manual_seed(1)
    assert torch.equal(first, mask(mel))


def test_a_tiny_axis_still_masks_one_row():
    out = MelMask("freq", max_width=0.01, p=1.0).train()(_mel(bands=4))
    assert (_masked_rows(_mel(bands=4), out, "freq").sum(dim=1) == 1).all()


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"axis": "channel", "max_width": 0.1}, "axis"),
        ({"axis": "time", "max_width": 0.0}, "max_width"),
        ({"axis": "time", "max_width": 0.1, "masks": 0}, "masks"),
        ({"axis": "time", "max_width": 0.1, "p": 1.5}, "p="),
    ],
)
def test_bad_settings_are_named(kwargs, key):
    with pytest.raises(ValueError, match=key):
        MelMask(**kwargs)
