"""LogMel: shapes, a per-example dB floor, no dead mel bands, bad f_max rejected."""

import math

import pytest
import torch

from muscall.models import LogMel


def _sine(seconds: float, freq: float, amp: float, sample_rate: int = 16000) -> torch.Tensor:
    t = torch.arange(int(seconds * sample_rate)) / sample_rate
    return amp * torch.sin(2 * math.pi * freq * t)


def test_shape_is_batch_channel_mels_frames():
    frontend = LogMel(sample_rate=16000, n_fft=512, hop_length=256, n_mels=40)
    spec = frontend(torch.randn(3, 16000))
    assert spec.shape == (3, 1, 40, 16000 // 256 + 1)
    assert spec.dtype == torch.float32


def test_features_do_not_depend_on_batch_mates():
    frontend = LogMel(top_db=80.0)
    quiet = torch.cat([_sine(1.0, 440.0, 1e-3), torch.zeros(16000)])  # half silence
    alone = frontend(quiet[None])
    # A batch-wide peak would raise the floor of the quiet clip by ~100 dB.
    loud_mate = 100.0 * torch.randn(32000)
    together = frontend(torch.stack([quiet, loud_mate]))
    torch.testing.assert_close(together[:1], alone)
    assert alone.amax() - alone.amin() == pytest.approx(80.0, abs=1e-3)


def test_no_top_db_means_no_floor():
    spec = LogMel(top_db=None)(torch.cat([_sine(1.0, 440.0, 1.0), torch.zeros(16000)])[None])
    assert spec.amax() - spec.amin() > 120.0  # top_db=100 would cap the range at 100


def test_every_mel_band_gets_energy_at_default_settings():
    frontend = LogMel()
    filterbank = frontend.mel.mel_scale.fb  # (n_freqs, n_mels)
    assert (filterbank.amax(dim=0) > 0).all()
    # White noise lights every band well above the floor; a dead band would sit on it.
    spec = frontend(torch.randn(2, 32000))[:, 0]  # (B, n_mels, frames)
    band_level = spec.mean(dim=-1)  # (B, n_mels)
    floor = spec.amax(dim=(1, 2)) - 100.0
    assert (band_level > floor[:, None] + 30.0).all()


def test_f_max_above_nyquist_is_rejected_by_name():
    with pytest.raises(ValueError, match="f_max=11025.0 Hz is above the Nyquist"):
        LogMel(sample_rate=16000, f_max=11025.0)
    LogMel(sample_rate=22050, f_max=11025.0)  # exactly Nyquist is fine


def test_stays_float32_under_autocast():
    frontend = LogMel(n_fft=512, hop_length=256, n_mels=32)
    wave = torch.randn(2, 8000) * 10.0
    with torch.autocast("cpu", dtype=torch.bfloat16):
        spec = frontend(wave)
    assert spec.dtype == torch.float32
    torch.testing.assert_close(spec, frontend(wave))


def test_too_short_waveform_is_rejected_clearly():
    with pytest.raises(ValueError, match="fewer than n_fft / 2"):
        LogMel(n_fft=1024)(torch.randn(2, 400))
