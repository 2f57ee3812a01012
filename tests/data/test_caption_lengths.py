"""Caption lengths against the tokenizer's limit: measured per split, one warning, the key named."""

import json
import logging

import numpy as np
import pytest

from muscall.data import caption_lengths
from muscall.models import ClipBPETokenizer, MiniLMTokenizer
from tests.helpers.long_captions import LONG_CAPTIONS

SHORT = ("a bright piano", "a dark synth bass line", "soft drums")


@pytest.mark.parametrize("make", [ClipBPETokenizer, MiniLMTokenizer])
def test_statistics_are_those_of_the_untruncated_lengths(make):
    tokenizer = make(40)
    lengths = np.array(tokenizer.lengths(LONG_CAPTIONS))
    stats = caption_lengths.measure(LONG_CAPTIONS, tokenizer, "train")
    assert stats.captions == len(LONG_CAPTIONS) and stats.limit == 40
    assert stats.median == np.median(lengths) and stats.max == lengths.max() > 40
    assert stats.p95 == pytest.approx(np.percentile(lengths, 95))
    assert stats.truncated == len(LONG_CAPTIONS)  # every one is longer than 40 tokens
    assert stats.truncated_share == 1.0


def test_a_caption_cut_by_the_tokenizer_is_counted_and_warned_about(caplog):
    """Fails if a caption longer than the limit could be cut with nothing said."""
    tokenizer = ClipBPETokenizer(context_length=48)
    captions = [*SHORT, *LONG_CAPTIONS[:3]]
    cut = [c for c in captions if tokenizer.lengths([c])[0] > tokenizer.limit]
    assert cut  # the fixture really is cut at this limit
    ids = tokenizer(cut)["input_ids"]
    assert ids.shape[1] == tokenizer.limit  # ... and the tokenizer cuts it without a word
    with caplog.at_level(logging.INFO, logger="muscall.data.caption_lengths"):
        found = caption_lengths.report({"train": captions}, tokenizer, warn_share=0.03)
    assert found["train"].truncated == len(cut)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "model.net.text_encoder.context_length" in message and "50.0 % of train" in message
    assert f"at least {int(np.ceil(found['train'].p95))}" in message
    assert any("tokens median" in r.getMessage() for r in caplog.records)


def test_one_warning_for_all_splits_and_none_under_the_threshold(caplog):
    tokenizer = MiniLMTokenizer(max_length=40)
    splits = {"train": LONG_CAPTIONS, "val": LONG_CAPTIONS[:4], "test": SHORT}
    with caplog.at_level(logging.WARNING):
        caption_lengths.report(splits, tokenizer, warn_share=0.03)
        caption_lengths.report({"train": SHORT}, tokenizer, warn_share=0.03)
        # 2 of 29 cut is 6.9 %: under a threshold of 0.1.
        caption_lengths.report({"train": [*SHORT * 9, *LONG_CAPTIONS[:2]]}, tokenizer, 0.1)
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "model.net.tokenizer.max_length" in warning
    assert "of train" in warning and "of val" in warning and "of test" not in warning


def test_a_tokenizer_that_cannot_tell_lengths_is_skipped(caplog):
    def plain(texts):
        return {}

    assert caption_lengths.report({"train": SHORT}, plain, warn_share=0.0) == {}


def test_split_files_of_a_folder_are_measured_with_every_caption(tmp_path):
    entries = [
        {"audio_id": "a", "caption": [LONG_CAPTIONS[0], "a second form"], "audio_path": "a.npy"},
        {"audio_id": "b", "caption": LONG_CAPTIONS[1], "audio_path": "b.npy"},
    ]
    (tmp_path / "mc_train.json").write_text(json.dumps(entries))
    (tmp_path / "mc_val.json").write_text("[]")  # no usable entry: nothing to measure
    tokenizer = ClipBPETokenizer(context_length=128)
    found = caption_lengths.report_folder(tmp_path, "mc", tokenizer, 0.03, tmp_path / "run")
    assert list(found) == ["train"] and found["train"].captions == 3
    saved = json.loads((tmp_path / "run" / caption_lengths.REPORT_FILE).read_text())
    assert saved["limit_key"] == "model.net.text_encoder.context_length"
    assert saved["splits"]["train"]["max_tokens"] == found["train"].max
    metrics = caption_lengths.as_metrics(found)
    assert metrics == {
        "captions/train/p95_tokens": found["train"].p95,
        "captions/train/truncated_share": 0.0,
    }


def test_a_long_tail_inside_the_p95_is_told_the_longest_length(caplog):
    tokenizer = ClipBPETokenizer(context_length=48)
    # 2 of 40 cut (5 %): the p95 stays under the limit, so only the longest helps.
    captions = [*SHORT * 12, *SHORT[:2], *LONG_CAPTIONS[:2]]
    with caplog.at_level(logging.WARNING):
        (found,) = caption_lengths.report({"train": captions}, tokenizer, 0.03).values()
    assert found.p95 <= 48 < found.max
    (warning,) = [r.getMessage() for r in caplog.records]
    assert f"context_length to {found.max} (the longest)" in warning


def test_a_tokenizer_that_cannot_load_leaves_the_run_going(caplog):
    class Missing(ClipBPETokenizer):
        def _build(self):
            raise ImportError("the tokenizer needs a package that is not installed")

    with caplog.at_level(logging.WARNING):
        assert caption_lengths.report({"train": SHORT}, Missing(32), warn_share=0.03) == {}
    assert "not measured: the tokenizer needs a package" in caplog.text
