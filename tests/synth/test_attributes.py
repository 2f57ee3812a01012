import numpy as np
import pytest

from muscall.synth.attributes import (
    FAST_FROM,
    MOOD_RULES,
    MOODS,
    SLOW_BELOW,
    TEMPO_MARGIN,
    sample_attributes,
    tempo_word,
)
from muscall.synth.grooves import COMP_RHYTHMS, DRUM_GROOVES
from muscall.synth.instruments import INSTRUMENTS
from muscall.synth.lines import BASS_PATTERNS
from muscall.synth.styles import GENRES, STYLES
from muscall.synth.theory import parse_roman


def _samples(per_genre=40):
    rng = np.random.default_rng(0)
    return [sample_attributes(rng, genre) for genre in GENRES for _ in range(per_genre)]


def test_tempo_words_follow_bpm_with_a_margin():
    assert tempo_word(SLOW_BELOW - 1) == "slow"
    assert tempo_word(SLOW_BELOW) == "moderate"
    assert tempo_word(FAST_FROM) == "fast"
    for attrs in _samples():
        low, high = attrs.style.tempo
        assert low <= attrs.tempo_bpm <= high
        assert min(abs(attrs.tempo_bpm - SLOW_BELOW), abs(attrs.tempo_bpm - FAST_FROM)) >= (
            TEMPO_MARGIN
        )


def test_mood_rules_cover_every_case_and_follow_mode_and_tempo():
    assert set(MOOD_RULES.values()) == set(MOODS)
    assert len(MOOD_RULES) == 2 * 3 * 2
    for (mode, tempo, _), mood in MOOD_RULES.items():
        if mode == "minor":
            assert mood in ("sad", "dark", "tense")
        if mode == "major":
            assert mood in ("energetic", "happy", "relaxed", "calm")
        if mode == "minor" and tempo == "slow":
            assert mood == "sad"
        if mode == "major" and tempo == "fast":
            assert mood in ("energetic", "happy")


@pytest.mark.parametrize("style", STYLES, ids=lambda s: s.label)
def test_style_tables_are_consistent(style):
    assert style.names[0] == style.label
    assert all(any(name in noun for name in style.names) for noun in style.nouns)
    assert set(style.players) == set(style.roles)
    for names in [*style.players.values(), style.solo]:
        assert all(name in INSTRUMENTS for name in names)
    assert all(INSTRUMENTS[n].is_drums for n in style.players.get("drums", ()))
    assert ("drums" in style.roles) == bool(style.grooves)
    for groove in style.grooves:
        assert all(len(line) % (4 * style.beats) == 0 for line in DRUM_GROOVES[groove].values())
    assert style.comp == "sustain" or style.comp in COMP_RHYTHMS
    special_bass = ("walking", "eighths", "sustain", "roots", "waltz")
    assert style.bass in BASS_PATTERNS or style.bass in special_bass
    for progression in [p for ps in style.progressions.values() for p in ps]:
        assert all(parse_roman(numeral, 0) for numeral in progression.split())


def test_players_are_distinct_and_texture_matches_count():
    samples = _samples()
    for attrs in samples:
        assert len(set(attrs.instruments)) == len(attrs.instruments) >= 1
        expected = {1: "solo", 2: "small group", 3: "small group"}.get(len(attrs.players))
        assert attrs.texture == (expected or "full band")
        assert attrs.has_drums == (attrs.groove is not None)
    assert {a.texture for a in samples} == {"solo", "small group", "full band"}


def test_classical_never_has_drums_and_rock_usually_does():
    samples = _samples()
    assert not any(a.has_drums for a in samples if a.genre == "classical")
    rock = [a.has_drums for a in samples if a.genre == "rock"]
    assert sum(rock) > 0.8 * len(rock)
