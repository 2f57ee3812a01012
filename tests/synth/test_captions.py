import re

import numpy as np
import pytest

from muscall.synth.attributes import sample_attributes
from muscall.synth.captions import (
    DYNAMICS_WORDS,
    MOOD_WORDS,
    TEMPO_WORDS,
    sentence_caption,
    tag_caption,
)
from muscall.synth.instruments import INSTRUMENTS
from muscall.synth.styles import GENRES
from muscall.synth.theory import spoken_key


def _has(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text.lower()) is not None


@pytest.fixture(scope="module")
def captioned():
    rng = np.random.default_rng(1)
    out = []
    for genre in GENRES:
        for _ in range(30):
            attrs = sample_attributes(rng, genre)
            out.append((attrs, sentence_caption(attrs, rng), tag_caption(attrs, rng)))
    return out


def test_word_classes_do_not_overlap():
    words = [
        w
        for table in (TEMPO_WORDS, MOOD_WORDS, DYNAMICS_WORDS)
        for ws in table.values()
        for w in ws
    ]
    assert len(words) == len(set(words))


def test_sentence_names_the_genre_and_no_other(captioned):
    for attrs, sentence, tags in captioned:
        assert any(_has(sentence, name) for name in attrs.style.names), sentence
        others = [g for g in GENRES if g != attrs.genre]
        assert not any(_has(sentence, g) or _has(tags, g) for g in others), (sentence, tags)


def test_sentence_names_only_instruments_that_play(captioned):
    vocabulary = sorted({n for inst in INSTRUMENTS.values() for n in inst.names()}, key=len)
    for attrs, sentence, _ in captioned:
        played = {n for name in attrs.instruments for n in INSTRUMENTS[name].names()}
        rest = sentence.lower()
        assert any(_has(rest, phrase) for phrase in played), sentence
        for phrase in sorted(played, key=len, reverse=True):
            rest = re.sub(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", " ", rest)
        assert not [p for p in vocabulary if _has(rest, p)], sentence


@pytest.mark.parametrize(
    ("table", "attribute"),
    [(TEMPO_WORDS, "tempo_word"), (MOOD_WORDS, "mood"), (DYNAMICS_WORDS, "dynamics")],
)
def test_sentence_words_agree_with_attributes(captioned, table, attribute):
    used = 0
    for attrs, sentence, _ in captioned:
        for value, words in table.items():
            if any(_has(sentence, w) for w in words):
                assert value == getattr(attrs, attribute), (sentence, getattr(attrs, attribute))
                used += 1
    assert used > len(captioned) // 3  # the attribute is really written, not always left out


def test_key_is_named_right_when_named(captioned):
    for attrs, sentence, _ in captioned:
        if re.search(r" in [A-G](-flat|-sharp)? (major|minor)", sentence):
            assert f" in {spoken_key(attrs.key)}" in sentence


def test_captions_vary(captioned):
    sentences = [s for _, s, _ in captioned]
    assert len(set(sentences)) == len(sentences)
    openings = {" ".join(s.split()[:2]) for s in sentences}
    assert len(openings) > 30


def test_tag_caption_lists_every_attribute(captioned):
    for attrs, _, tags in captioned:
        items = tags.split(", ")
        assert set(attrs.instruments) <= set(items)
        assert {attrs.tempo_word, attrs.mood, attrs.dynamics} <= set(items)
        assert any(name in items for name in attrs.style.names)
        assert ("no drums" in items) == (not attrs.has_drums)
