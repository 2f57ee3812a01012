"""Tiny Hugging Face models built and saved locally, as a user's downloaded folders would be.

Random weights from small configs, a byte-level BPE tokenizer trained on the fixtures'
captions, feature extractors saved beside them: the real loading code reads real folders,
and nothing reaches a hub.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.datasets import MANY_WORDS

CAPTIONS = [f"a {word} tone" for word in MANY_WORDS] + [
    "a calm piano melody",
    "a loud rock song with distorted guitars and drums",
    "warm jazz piano trio",
    "an upbeat rock song with distorted guitar",
    "a calm solo piano piece",
]
# Tiny towers' context: the tokenizer's model_max_length, the position table's usable rows.
TEXT_POSITIONS = 32


def roberta_tokenizer(captions=CAPTIONS, max_length: int = TEXT_POSITIONS):
    """RoBERTa's byte-level BPE with its special tokens, trained on `captions`."""
    import tempfile

    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizer

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(captions, vocab_size=400, min_frequency=1, special_tokens=specials)
    with tempfile.TemporaryDirectory() as folder:
        vocab, merges = bpe.save_model(folder)
        return RobertaTokenizer(vocab=vocab, merges=merges, model_max_length=max_length)


def _text_sizes(tokenizer) -> dict:
    # RoBERTa's positions start after the padding id: two rows more than the tokens.
    return dict(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=TEXT_POSITIONS + 2,
    )


def save_roberta(folder: Path) -> Path:
    """A RoBERTa-style text model and its tokenizer in `folder`."""
    import torch
    from transformers import RobertaConfig, RobertaModel

    tokenizer = roberta_tokenizer()
    torch.manual_seed(0)
    RobertaModel(RobertaConfig(**_text_sizes(tokenizer))).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def save_wav2vec2(folder: Path, sample_rate: int = 16000) -> Path:
    """A wav2vec2-style raw-waveform model and its feature extractor in `folder`."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

    config = Wav2Vec2Config(
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        conv_dim=(8, 8),
        conv_kernel=(10, 4),
        conv_stride=(10, 4),
        num_conv_pos_embeddings=8,
        num_conv_pos_embedding_groups=2,
    )
    torch.manual_seed(0)
    Wav2Vec2Model(config).save_pretrained(folder)
    extractor = Wav2Vec2FeatureExtractor(
        sampling_rate=sample_rate, do_normalize=True, return_attention_mask=False
    )
    extractor.save_pretrained(folder)
    return folder


def save_clap(folder: Path, sample_rate: int = 8000) -> Path:
    """A ClapModel with its feature extractor and tokenizer (a processor) in `folder`."""
    import torch
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel, ClapProcessor

    tokenizer = roberta_tokenizer()
    audio = dict(
        window_size=4,
        spec_size=64,
        num_mel_bins=16,
        hidden_size=32,
        depths=[1, 1],
        num_attention_heads=[1, 2],
        patch_embeds_hidden_size=16,
    )
    config = ClapConfig(text_config=_text_sizes(tokenizer), audio_config=audio, projection_dim=8)
    torch.manual_seed(0)
    ClapModel(config).save_pretrained(folder)
    extractor = ClapFeatureExtractor(
        feature_size=16,
        sampling_rate=sample_rate,
        hop_length=160,
        max_length_s=1,
        fft_window_size=256,
        frequency_max=sample_rate // 2,
        # LAION's unfused checkpoints: one random crop of a longer clip, repeat-padding a short one.
        truncation="rand_trunc",
        padding="repeatpad",
    )
    ClapProcessor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def hf_folders(tmp_path_factory) -> dict[str, Path]:
    """One folder per tiny model, read only: a test that deletes one copies it first."""
    root = tmp_path_factory.mktemp("hf")
    return {
        "roberta": save_roberta(root / "roberta"),
        "wav2vec2": save_wav2vec2(root / "wav2vec2"),
        "clap": save_clap(root / "clap"),
    }
