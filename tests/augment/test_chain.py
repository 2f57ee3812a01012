"""The waveform chain of conf/augment/default.yaml: per-example draws, training only."""

import random

import pytest
import torch
from hydra.utils import instantiate

from muscall.augment import Augmentation
from muscall.config import compose_config

WAVE_TRANSFORMS = ("gain", "polarity", "noise", "shift", "pitch")


@pytest.fixture(scope="module")
def augment_cfg(tmp_path_factory):
    return compose_config(["augment=default"], tmp_path_factory.mktemp("cfg")).augment


def _only(augment_cfg, name: str, p: float) -> Augmentation:
    """An Augmentation of one waveform transform of the default chain, at probability p."""
    node = augment_cfg.wave[name].copy()
    node.p = p
    return Augmentation(wave={name: instantiate(node)})


def _clips(batch=6, samples=8000, same=False) -> torch.Tensor:
    """Tones with an onset: every transform of the chain shows in them."""
    generator = torch.Generator().manual_seed(0)
    t = torch.arange(samples) / 16000
    freq = 220.0 * (1 + torch.rand(batch, 1, generator=generator))
    wave = 0.3 * torch.sin(2 * torch.pi * freq * t) * (t < 0.3)
    return wave[:1].expand(batch, -1).clone() if same else wave


@pytest.mark.parametrize("name", WAVE_TRANSFORMS)
def test_each_transform_at_p1_changes_every_example_in_training(augment_cfg, name):
    augment = _only(augment_cfg, name, 1.0).train()
    wave = _clips()
    out = augment.augment_wave(wave)
    assert out.shape == wave.shape and out.dtype == wave.dtype
    assert ((out - wave).abs().amax(dim=1) > 1e-4).all()
    assert torch.equal(wave, _clips())  # the batch itself is left alone


@pytest.mark.parametrize("name", WAVE_TRANSFORMS)
def test_each_transform_is_the_identity_in_eval_and_at_p0(augment_cfg, name):
    wave = _clips()
    assert _only(augment_cfg, name, 1.0).eval().augment_wave(wave) is wave
    assert torch.equal(_only(augment_cfg, name, 0.0).train().augment_wave(wave), wave)


@pytest.mark.parametrize("name", [n for n in WAVE_TRANSFORMS if n != "polarity"])
def test_each_example_gets_its_own_draw(augment_cfg, name):
    # Identical clips in, different clips out: the parameters are drawn per example.
    augment = _only(augment_cfg, name, 1.0).train()
    out = augment.augment_wave(_clips(batch=8, same=True))
    assert not torch.allclose(out, out[:1].expand_as(out))


def test_the_probability_is_drawn_per_example(augment_cfg):
    # Polarity has no parameter to draw: only whether it applies differs between examples.
    augment = _only(augment_cfg, "polarity", 0.5).train()
    wave = _clips(batch=64)
    flipped = (augment.augment_wave(wave) == -wave).all(dim=1)
    assert 0 < int(flipped.sum()) < 64


def test_the_default_chain_is_deterministic_under_a_seed(augment_cfg):
    augment = instantiate(augment_cfg).train()
    wave = _clips(batch=8)
    outs = []
    for _ in range(2):
        torch.manual_seed(3)
        random.seed(3)  # PitchShift draws its ratios with Python's random
        outs.append(augment.augment_wave(wave))
    assert torch.equal(*outs)
    assert not torch.equal(outs[0], augment.augment_wave(wave))  # and fresh draws differ


def test_the_chain_holds_no_state(augment_cfg):
    # Nothing to save: checkpoints load with or without augmentation configured.
    augment = instantiate(augment_cfg)
    assert augment.state_dict() == {}
    assert list(augment.parameters()) == []


def test_a_transform_set_to_null_is_left_out(tmp_path):
    cfg = compose_config(["augment=default", "augment.wave.pitch=null"], tmp_path).augment
    augment = instantiate(cfg)
    assert "pitch" not in augment.wave and "gain" in augment.wave
    assert augment.active
    assert not Augmentation().active


def test_polarity_is_invisible_to_the_log_mel(augment_cfg):
    # Why the default chain leaves polarity at p 0: the frontend squares the magnitude.
    from muscall.models import LogMel

    frontend = LogMel(n_fft=512, hop_length=256, n_mels=32)
    wave = _clips()
    torch.testing.assert_close(frontend(-wave), frontend(wave))


def _tiny_net():
    from muscall.config import compose_config as compose

    torch.manual_seed(0)
    return instantiate(compose(["model=tiny"]).model.net)


def test_spec_augment_reaches_the_encoder_in_training_and_nothing_in_eval(augment_cfg):
    net, augment = _tiny_net(), instantiate(augment_cfg)
    for transform in augment.spec.values():
        transform.p = 1.0
    wave = _clips(batch=4, samples=16000)
    net.eval()
    plain = net.encode_audio(wave)
    augment.eval()
    assert torch.equal(net.encode_audio(wave, spec_augment=augment.augment_spec), plain)
    augment.train()
    masked = net.encode_audio(wave, spec_augment=augment.augment_spec)
    assert not torch.allclose(masked, plain)


@pytest.mark.gpu
def test_the_default_chain_and_the_ssl_branch_run_on_cuda(augment_cfg, tmp_path):
    from muscall.losses import InfoNCE

    cfg = compose_config(["model=tiny", "augment=default", "model.ssl_weight=0.3"], tmp_path)
    cfg.model.augment.wave.pitch.p = 0.5
    torch.manual_seed(0)
    module = instantiate(cfg.model, loss=InfoNCE(), metadata={}).cuda().train()
    wave = _clips(batch=4, samples=16000).cuda()
    view = module.augment.augment_wave(wave)
    assert view.device == wave.device and not torch.equal(view, wave)
    audio_emb = module._encode_view(wave)
    ssl = module.ssl_loss_fn(module.ssl_head(audio_emb), module.ssl_head(module._encode_view(wave)))
    ssl.backward()
    assert torch.isfinite(ssl) and module.ssl_head[0].weight.grad is not None


def test_colored_noise_sits_at_the_drawn_snr_with_the_drawn_slope():
    from muscall.augment import ColoredNoise

    torch.manual_seed(0)
    wave = _clips(batch=8, samples=16000).unsqueeze(1)  # (B, 1, T)
    rms = wave.pow(2).mean(-1).sqrt()
    for snr in (3.0, 20.0):
        out = ColoredNoise(snr, snr, 0.0, 0.0, p=1.0).train()(wave)
        noise_rms = (out - wave).pow(2).mean(-1).sqrt()
        torch.testing.assert_close(20 * torch.log10(rms / noise_rms), torch.full_like(rms, snr))
    # Brown noise (decay 2) puts far more power below 500 Hz than above 4 kHz; violet the reverse.
    steady = 0.1 * torch.ones(4, 1, 16000)
    for decay, low_wins in ((2.0, True), (-2.0, False)):
        noise = ColoredNoise(0.0, 0.0, decay, decay, p=1.0).train()(steady) - steady
        power = torch.fft.rfft(noise[:, 0]).abs().pow(2)  # 1 Hz bins
        assert (power[:, 1:500].mean() > power[:, 4000:].mean()) == low_wins
