"""Every text option keeps MusicCaps-length captions whole; older checkpoints keep their length."""

import pytest
import torch
from hydra.utils import instantiate

from muscall.checkpoint import checkpoint_metadata, load_checkpoint
from muscall.config import CONFIG_DIR, compose_config
from muscall.data.caption_lengths import measure
from tests.helpers.long_captions import LONG_CAPTIONS

# hf_clap's limit is its named model's (tests/models/test_hf_towers.py checks that rule).
MODELS = sorted(p.stem for p in (CONFIG_DIR / "model").glob("*.yaml") if p.stem != "hf_clap")
# The same caption with another ending: the first 40-odd tokens are shared.
ENDINGS = ("It sounds happy and bright.", "It sounds dark, sad and lonely.")


@pytest.mark.parametrize("model", MODELS)
def test_every_option_keeps_musiccaps_length_captions_whole(model):
    tokenizer = instantiate(compose_config([f"model={model}"]).model.net.tokenizer)
    stats = measure(LONG_CAPTIONS, tokenizer, "train")
    assert stats.p95 <= stats.limit, f"model={model} cuts the p95 caption"
    assert stats.truncated_share <= 0.05


def _cpu_net(*overrides):
    cfg = compose_config(["model=cpu", *overrides])
    torch.manual_seed(0)
    return instantiate(cfg.model.net).eval(), cfg


def _two_endings():
    start = " ".join(LONG_CAPTIONS[2].split(". ")[:3])  # three sentences, about 40 tokens
    return [f"{start}. {ending}" for ending in ENDINGS]


def test_captions_differing_after_token_32_embed_differently_with_model_cpu():
    captions = _two_endings()
    net, _ = _cpu_net()
    ids = net.tokenize(captions)["input_ids"]
    first_difference = (ids[0] != ids[1]).nonzero()[0].item()
    assert first_difference > 32
    with torch.no_grad():
        text_emb = net.encode_text(net.tokenize(captions))
    assert not torch.allclose(text_emb[0], text_emb[1], atol=1e-4)
    # At the old limit of 32 both are cut to the same tokens: the same embedding.
    old, _ = _cpu_net("model.net.text_encoder.context_length=32")
    with torch.no_grad():
        old_emb = old.encode_text(old.tokenize(captions))
    torch.testing.assert_close(old_emb[0], old_emb[1])


def test_a_checkpoint_of_the_old_length_loads_with_its_own(tmp_path):
    """Its stored network config carries its context length: 32, not today's default."""
    net, cfg = _cpu_net("model.net.text_encoder.context_length=32")
    path = tmp_path / "old.ckpt"
    state = {f"net.{k}": v for k, v in net.state_dict().items()}
    torch.save({"state_dict": state, "muscall": checkpoint_metadata(cfg)}, path)
    loaded = load_checkpoint(path).net
    assert loaded.text_encoder.positional_embedding.shape[0] == 32
    assert loaded.tokenizer.limit == 32
    assert _cpu_net()[0].text_encoder.context_length > 32  # today's default differs
    captions = _two_endings()
    with torch.no_grad():
        torch.testing.assert_close(
            loaded.encode_text(loaded.tokenize(captions)), net.encode_text(net.tokenize(captions))
        )
