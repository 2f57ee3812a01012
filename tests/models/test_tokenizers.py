"""Tokenizers: output layout, CLIP-style clean-up, robustness, pickling for DataLoader workers."""

import pickle

import pytest
import torch

from muscall.models import ClipBPETokenizer, MiniLMTokenizer

SOT, EOT = 49406, 49407


def test_clip_bpe_layout_sot_text_eot_then_zero_padding():
    tokenizer = ClipBPETokenizer(context_length=12, pad_to_longest=False)
    ids = tokenizer(["a rock song", ""])["input_ids"]
    assert ids.dtype == torch.long and ids.shape == (2, 12)
    assert (ids[:, 0] == SOT).all()
    assert ids[0, 4] == EOT and (ids[0, 5:] == 0).all()
    assert ids[1, :2].tolist() == [SOT, EOT] and (ids[1, 2:] == 0).all()
    assert ids.max() < tokenizer.vocab_size == 49408
    # End-of-text is the row maximum: the text encoder pools there.
    assert ids.argmax(dim=1).tolist() == [4, 1]


def test_clip_bpe_pads_to_the_longest_caption_of_the_batch():
    captions = ["a rock song", "", "a slow sad piano ballad"]
    full = ClipBPETokenizer(context_length=16, pad_to_longest=False)(captions)["input_ids"]
    trimmed = ClipBPETokenizer(context_length=16)(captions)["input_ids"]
    # SOT + 5 words + EOT: the longest caption ends the batch's last column.
    assert trimmed.shape == (3, 7) and trimmed[2, -1] == EOT
    assert torch.equal(trimmed, full[:, :7]) and (full[:, 7:] == 0).all()
    # A caption at or over the context length keeps the full length.
    assert ClipBPETokenizer(context_length=8)(["la " * 50, "a"])["input_ids"].shape == (2, 8)


def test_clip_bpe_truncates_keeping_eot_last():
    ids = ClipBPETokenizer(context_length=8)(["la " * 50])["input_ids"]
    assert ids.shape == (1, 8) and ids[0, -1] == EOT


def test_clip_bpe_cleans_case_whitespace_and_html_like_openai_clip():
    tokenizer = ClipBPETokenizer(context_length=16)
    reference = tokenizer(["rock & roll"])["input_ids"]
    for variant in ["Rock  &  ROLL", " rock &amp; roll\n", "rock &amp;amp; roll"]:
        assert torch.equal(tokenizer([variant])["input_ids"], reference), variant


def test_minilm_ids_and_mask():
    tokenizer = MiniLMTokenizer(max_length=6)
    out = tokenizer(["a rock song", "", "one two three four five six seven"])
    assert set(out) == {"input_ids", "attention_mask"}
    assert out["input_ids"].dtype == torch.long and out["input_ids"].shape == (3, 6)
    assert out["attention_mask"].sum(dim=1).tolist() == [5, 2, 6]  # [CLS] ... [SEP]


@pytest.mark.parametrize("make", [lambda: ClipBPETokenizer(10), lambda: MiniLMTokenizer(10)])
def test_pickles_before_and_after_use(make):
    tokenizer = make()
    fresh = pickle.loads(pickle.dumps(tokenizer))
    expected = tokenizer(["a calm piano piece"])
    used = pickle.loads(pickle.dumps(tokenizer))  # the built backend is dropped, then rebuilt
    assert tokenizer._backend is not None and used._backend is None
    for copy in (fresh, used):
        out = copy(["a calm piano piece"])
        assert out.keys() == expected.keys()
        for key in out:
            assert torch.equal(out[key], expected[key])


@pytest.mark.parametrize("tokenizer", [ClipBPETokenizer(10), MiniLMTokenizer(10)])
def test_empty_batch_gives_empty_tensors(tokenizer):
    assert all(v.shape[0] == 0 for v in tokenizer([]).values())


def test_lengths_are_the_uncut_token_counts_and_limit_the_cut():
    captions = ["a rock song", "", "la " * 60]
    clip = ClipBPETokenizer(context_length=8)
    whole = ClipBPETokenizer(context_length=512)(captions)["input_ids"]
    assert clip.lengths(captions) == (whole.argmax(dim=1) + 1).tolist()  # SOT .. EOT
    assert clip.limit == 8 and clip(captions)["input_ids"].shape[1] == 8
    minilm = MiniLMTokenizer(max_length=8)
    whole_mask = MiniLMTokenizer(max_length=512)(captions)["attention_mask"]
    assert minilm.lengths(captions) == whole_mask.sum(dim=1).tolist()  # [CLS] .. [SEP]
    assert minilm.limit == 8 and minilm(captions)["input_ids"].shape[1] == 8
    assert minilm.lengths([]) == clip.lengths([]) == []
