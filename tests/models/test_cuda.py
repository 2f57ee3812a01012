"""The DualEncoder on a CUDA device under mixed precision (skipped where there is no GPU)."""

import math

import pytest
import torch

from muscall.models import DualEncoder, LogMel, ModifiedResNet, TextTransformer
from muscall.models.tokenizers import CLIP_VOCAB_SIZE

pytestmark = pytest.mark.gpu


def _word_ids(texts):
    """A stand-in tokenizer (SOT, one id per word, EOT): keeps this test free of BPE files."""
    rows = [[49406, *(hash(w) % 40000 + 1 for w in t.split())][:15] + [49407] for t in texts]
    ids = torch.zeros(len(rows), 16, dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
    return {"input_ids": ids}


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return DualEncoder(
        frontend=LogMel(sample_rate=16000, n_fft=1024, hop_length=512, n_mels=64),
        audio_encoder=ModifiedResNet(layers=(1, 1, 1, 1), width=16, heads=4, output_dim=64),
        text_encoder=TextTransformer(CLIP_VOCAB_SIZE, 16, 64, 2, 2, 4.0, 0.0),
        tokenizer=_word_ids,
        embed_dim=32,
    ).eval()


def _loud_waves(batch: int, seconds: float = 3.0) -> torch.Tensor:
    # Full-scale tones: their power spectra overflow float16 if the frontend ran in it.
    t = torch.arange(int(seconds * 16000)) / 16000
    return torch.stack([torch.sin(2 * math.pi * (110.0 * (i + 1)) * t) for i in range(batch)])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_mixed_precision_matches_float32_on_cpu(net, dtype):
    wave, tokens = _loud_waves(4), _word_ids(["a", "b c", "d e f", "g"])
    cpu_audio, cpu_text, _ = net(wave, tokens)
    gpu = net.to("cuda")
    with torch.autocast("cuda", dtype=dtype):
        spec = gpu.frontend(wave.cuda())
        audio_emb, text_emb, scale = gpu(wave.cuda(), {k: v.cuda() for k, v in tokens.items()})
    net.to("cpu")
    assert spec.dtype == torch.float32 and torch.isfinite(spec).all()
    assert torch.isfinite(audio_emb).all() and torch.isfinite(text_emb).all()
    assert torch.nn.functional.cosine_similarity(audio_emb.float().cpu(), cpu_audio).min() > 0.99
    assert torch.nn.functional.cosine_similarity(text_emb.float().cpu(), cpu_text).min() > 0.99


def test_frontend_on_cuda_matches_cpu(net):
    wave = _loud_waves(3) * torch.tensor([[1.0], [1e-3], [0.0]])
    expected = net.frontend(wave)
    frontend = net.frontend.to("cuda")
    got = frontend(wave.cuda()).cpu()
    net.to("cpu")
    torch.testing.assert_close(got, expected, atol=1e-2, rtol=1e-4)


def test_embed_text_lands_on_the_net_device(net):
    gpu = net.to("cuda")
    embedded = gpu.embed_text(["a b", "c", "d e"], batch_size=2)
    net.to("cpu")
    assert embedded.device.type == "cuda" and embedded.shape == (3, 32)
    torch.testing.assert_close(embedded.norm(dim=-1), torch.ones(3, device="cuda"))
