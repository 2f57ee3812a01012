"""DualEncoder: shapes, unit norm, temperature clamp, batched text embedding, tokenizer wiring."""

import copy
import math
import pickle

import pytest
import torch

from muscall.models import ClipBPETokenizer, DualEncoder, LogMel, ModifiedResNet, TextTransformer
from muscall.models.tokenizers import CLIP_VOCAB_SIZE

CAPTIONS = ["a bright piano", "dark synth bass", "soft jazz drums", "loud rock guitar", "calm"]


def _tiny(**kwargs) -> DualEncoder:
    torch.manual_seed(0)
    return DualEncoder(
        frontend=LogMel(sample_rate=16000, n_fft=512, hop_length=256, n_mels=32),
        audio_encoder=ModifiedResNet(layers=(1, 1, 1, 1), width=8, heads=2, output_dim=32),
        text_encoder=TextTransformer(CLIP_VOCAB_SIZE, 16, 32, 1, 2, 2.0, 0.0),
        tokenizer=ClipBPETokenizer(context_length=16),
        embed_dim=24,
        **kwargs,
    )


@pytest.fixture(scope="module")
def net():
    return _tiny()


def test_forward_gives_unit_embeddings_and_the_scale(net):
    net.train()
    audio_emb, text_emb, scale = net(torch.randn(3, 8000), net.tokenize(CAPTIONS[:3]))
    assert audio_emb.shape == text_emb.shape == (3, 24)
    torch.testing.assert_close(audio_emb.norm(dim=-1), torch.ones(3))
    torch.testing.assert_close(text_emb.norm(dim=-1), torch.ones(3))
    assert scale.item() == pytest.approx(1 / 0.07, rel=1e-5)


def test_normalize_flag(net):
    net.eval()
    wave, tokens = torch.randn(2, 8000), net.tokenize(CAPTIONS[:2])
    raw_audio = net.encode_audio(wave, normalize=False)
    raw_text = net.encode_text(tokens, normalize=False)
    assert not torch.allclose(raw_audio.norm(dim=-1), torch.ones(2))
    assert not torch.allclose(raw_text.norm(dim=-1), torch.ones(2))
    torch.testing.assert_close(net.encode_audio(wave), raw_audio / raw_audio.norm(dim=-1)[:, None])


def test_batch_of_one_trains(net):
    net.train()
    audio_emb, text_emb, scale = net(torch.randn(1, 16000), net.tokenize(CAPTIONS[:1]))
    (scale * audio_emb @ text_emb.T).sum().backward()
    for name in ("audio_proj.weight", "text_proj.weight", "logit_scale"):
        assert net.get_parameter(name).grad is not None, name
    net.zero_grad()


def test_clamp_logit_scale_caps_at_the_max_only():
    net = _tiny(logit_scale_init=50.0, logit_scale_max=100.0)
    net.clamp_logit_scale()
    assert net.logit_scale.exp().item() == pytest.approx(50.0, rel=1e-5)
    with torch.no_grad():
        net.logit_scale.fill_(math.log(1000.0))
    net.clamp_logit_scale()
    assert net.logit_scale.exp().item() == pytest.approx(100.0, rel=1e-5)
    assert net.logit_scale.requires_grad


def test_bad_logit_scale_init_is_rejected():
    with pytest.raises(ValueError, match="logit_scale_init"):
        _tiny(logit_scale_init=200.0, logit_scale_max=100.0)


def test_projections_are_bias_free(net):
    assert net.audio_proj.bias is None and net.text_proj.bias is None
    assert net.audio_proj.in_features == 32 and net.text_proj.in_features == 32


def test_embed_text_matches_encode_text_in_batches(net):
    net.eval()
    embedded = net.embed_text(CAPTIONS, batch_size=2)
    assert embedded.shape == (5, 24) and not embedded.requires_grad
    torch.testing.assert_close(embedded, net.encode_text(net.tokenize(CAPTIONS)))
    assert net.embed_text([]).shape == (0, 24)


def test_tokenizer_is_a_plain_attribute_and_the_net_pickles(net):
    net.tokenize(["warm up the backend"])
    assert not any(k.startswith("tokenizer") for k in net.state_dict())
    restored = pickle.loads(pickle.dumps(net))
    assert torch.equal(restored.tokenize(["x"])["input_ids"], net.tokenize(["x"])["input_ids"])
    assert copy.deepcopy(net).tokenizer is not net.tokenizer


def test_the_configs_fused_adamw_matches_the_per_tensor_loop():
    from hydra.utils import instantiate

    from muscall.config import compose_config

    make_optimizer = instantiate(compose_config(["model=tiny"]).model.optimizer)
    assert make_optimizer.keywords["fused"] is True
    # float64: Adam divides by sqrt(v), so a gradient near zero turns float32 rounding into a
    # whole step of either sign; in float64 the kernels agree to far below one step.
    nets = [_tiny().double(), _tiny().double()]
    optimizers = []
    for net, fused in zip(nets, (True, False), strict=True):
        # Two groups as MusCALLModule builds them: decayed matrices, undecayed vectors.
        matrices = [p for p in net.parameters() if p.ndim >= 2]
        vectors = [p for p in net.parameters() if p.ndim < 2]
        groups = [{"params": matrices}, {"params": vectors, "weight_decay": 0.0}]
        optimizers.append(make_optimizer(groups, fused=fused))
    wave = torch.randn(4, 8000, dtype=torch.float64)
    tokens = nets[0].tokenize(CAPTIONS[:4])
    for _ in range(3):
        for net, optimizer in zip(nets, optimizers, strict=True):
            audio_emb, text_emb, scale = net(wave, tokens)
            loss = -(scale * (audio_emb * text_emb).sum(-1)).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    # A wrong group setting (decay, lr) would move weights by ~1e-3 (lr) or ~1e-6 (decay).
    for fused, loop in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        torch.testing.assert_close(fused, loop, atol=1e-10, rtol=1e-8)
