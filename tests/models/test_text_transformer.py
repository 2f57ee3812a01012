"""TextTransformer: causal masking, end-of-text pooling, shapes, context length."""

import pytest
import torch
import torch.nn.functional as F

from muscall.models import ClipBPETokenizer, TextTransformer
from muscall.models.tokenizers import CLIP_VOCAB_SIZE

EOT = 49407


@pytest.fixture(scope="module")
def encoder():
    torch.manual_seed(0)
    return TextTransformer(
        vocab_size=CLIP_VOCAB_SIZE,
        context_length=16,
        width=32,
        layers=2,
        heads=2,
        mlp_ratio=2.0,
        dropout=0.0,
    ).eval()


def _ids(*rows):
    return torch.tensor(rows, dtype=torch.long)


def test_shape_and_output_dim(encoder):
    tokens = ClipBPETokenizer(context_length=16)(["a bright piano", "dark synth bass line"])
    out = encoder(tokens)
    assert out.shape == (2, 32)
    assert encoder.output_dim == 32


def test_later_tokens_never_change_earlier_states(encoder):
    ids = _ids([49406, 320, 2172, 2700, 1002, 256, 42, EOT])
    changed = ids.clone()
    changed[0, 4:] = _ids([7, 8, 9, 10])
    states, changed_states = encoder.hidden_states(ids), encoder.hidden_states(changed)
    torch.testing.assert_close(states[:, :4], changed_states[:, :4])
    assert not torch.allclose(states[:, 4:], changed_states[:, 4:])


def test_pooled_at_end_of_text_and_blind_to_padding(encoder):
    ids = _ids([49406, 320, 2172, EOT, 0, 0, 0, 0], [49406, 320, 2700, 1002, 256, 42, 8, EOT])
    pooled = encoder({"input_ids": ids})
    states = encoder.hidden_states(ids)
    torch.testing.assert_close(pooled, torch.stack([states[0, 3], states[1, 7]]))
    junk_after_eot = ids.clone()
    junk_after_eot[0, 4:] = _ids([11, 12, 13, 14])
    torch.testing.assert_close(encoder({"input_ids": junk_after_eot}), pooled)


def test_shorter_input_is_fine_longer_is_rejected(encoder):
    assert encoder({"input_ids": _ids([49406, 320, EOT])}).shape == (1, 32)
    with pytest.raises(ValueError, match="context_length=16"):
        encoder({"input_ids": torch.zeros(1, 17, dtype=torch.long)})


def test_dropout_is_active_only_in_training():
    torch.manual_seed(0)
    encoder = TextTransformer(CLIP_VOCAB_SIZE, 8, 16, 1, 2, 2.0, 0.5)
    ids = {"input_ids": _ids([49406, 320, 2172, EOT])}
    encoder.train()
    assert not torch.allclose(encoder(ids), encoder(ids))
    encoder.eval()
    torch.testing.assert_close(encoder(ids), encoder(ids))


def test_batch_trimmed_to_its_longest_caption_matches_77_padding():
    """Eval embeddings, a training loss and its gradients: the same as at 77 tokens."""
    torch.manual_seed(0)
    # Dropout off in training: its masks are drawn per position, so they differ by length.
    encoder = TextTransformer(CLIP_VOCAB_SIZE, 77, width=64, layers=2, heads=4, dropout=0.0)
    captions = ["a bright piano", "dark synth bass line with a slow drum machine groove", "calm"]
    trimmed = ClipBPETokenizer(77)(captions)
    padded = ClipBPETokenizer(77, pad_to_longest=False)(captions)
    assert trimmed["input_ids"].shape[1] < 20 and padded["input_ids"].shape[1] == 77
    # Another sequence length changes the kernels' summation order: float32 rounding only.
    tol = {"atol": 1e-5, "rtol": 1e-4}
    encoder.eval()
    with torch.no_grad():
        torch.testing.assert_close(encoder(trimmed), encoder(padded), **tol)
    encoder.train()
    target = torch.randn(len(captions), 64)
    grads = []
    for tokens in (trimmed, padded):
        encoder.zero_grad()
        loss = F.cross_entropy(
            10 * F.normalize(encoder(tokens), dim=-1) @ target.T, torch.arange(3)
        )
        loss.backward()
        grads.append((loss.detach(), [p.grad.clone() for p in encoder.parameters()]))
    torch.testing.assert_close(grads[0][0], grads[1][0], **tol)
    for got, expected in zip(grads[0][1], grads[1][1], strict=True):
        torch.testing.assert_close(got, expected, **tol)
