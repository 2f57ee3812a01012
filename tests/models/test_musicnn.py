"""The musicnn port: its shapes, its parameter count, TF's padding, any input length."""

import pytest
import torch

from muscall.models.musicnn import (
    MAP_CHANNELS,
    POOLED_DIM,
    MusicnnBody,
    MusicnnTagger,
    _same_time_pad,
    pretrained_tagger,
)
from muscall.models.musicnn_frontend import MusicnnMel, slaney_mel_filterbank


def test_sizes_are_musicnns():
    assert (MAP_CHANNELS, POOLED_DIM) == (753, 1506)
    assert sum(p.numel() for p in MusicnnTagger().parameters()) == 787_159


def test_even_kernels_pad_like_tensorflow_same():
    assert _same_time_pad(128) == (0, 0, 63, 64)
    assert _same_time_pad(32) == (0, 0, 15, 16)
    assert _same_time_pad(7) == (0, 0, 3, 3)


@pytest.mark.parametrize("frames", [40, 187, 400])
def test_any_length_gives_one_pooled_vector(frames):
    body = MusicnnBody().eval()
    mel = torch.randn(2, 1, 96, frames)
    assert body.feature_map(mel).shape == (2, 753, frames)
    assert body(mel).shape == (2, 1506)


def test_pooled_features_interleave_max_and_mean():
    body = MusicnnBody().eval()
    mel = torch.randn(1, 1, 96, 50)
    feature_map = body.feature_map(mel)
    raw = (body(mel) - body.pool_bn.bias) / body.pool_bn.weight
    raw = raw * (body.pool_bn.running_var + body.pool_bn.eps).sqrt() + body.pool_bn.running_mean
    torch.testing.assert_close(raw[0, 0::2], feature_map[0].amax(dim=1), atol=1e-5, rtol=0)
    torch.testing.assert_close(raw[0, 1::2], feature_map[0].mean(dim=1), atol=1e-5, rtol=0)


def test_filterbank_is_slaney_normalised_and_covers_every_band():
    fbank = slaney_mel_filterbank(16000, 512, 96)
    assert fbank.shape == (96, 257) and (fbank.max(axis=1) > 0).all()
    # Slaney's norm: each triangle has area 1 in Hz -> height 2 / (its width in Hz).
    assert fbank[0].max() > fbank[-1].max()


def test_the_tagger_rejects_other_mel_layouts():
    with pytest.raises(ValueError, match="96"):
        pretrained_tagger("msd")(torch.randn(1, 1, 128, 187))


def test_frontend_refuses_other_sample_rates():
    with pytest.raises(ValueError, match="16000"):
        MusicnnMel(sample_rate=22050)
