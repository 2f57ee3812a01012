import pytest

from muscall.synth.theory import (
    Chord,
    close_voicing,
    key_name,
    parse_roman,
    power_voicing,
    satb_voicing,
    scale_pitches,
    spoken_key,
)


@pytest.mark.parametrize(
    ("numeral", "root", "intervals"),
    [
        ("I", 0, (0, 4, 7)),
        ("vi", 9, (0, 3, 7)),
        ("bVII", 10, (0, 4, 7)),
        ("V7", 7, (0, 4, 7, 10)),
        ("ii7", 2, (0, 3, 7, 10)),
        ("Imaj7", 0, (0, 4, 7, 11)),
        ("iim7b5", 2, (0, 3, 6, 10)),
        ("IV9", 5, (0, 4, 7, 10, 14)),
        ("bVI7", 8, (0, 4, 7, 10)),
    ],
)
def test_parse_roman_in_c(numeral, root, intervals):
    assert parse_roman(numeral, tonic=0) == Chord(root, intervals)


def test_parse_roman_transposes_and_rejects_nonsense():
    assert parse_roman("V", tonic=9).root == 4  # E is the fifth of A
    with pytest.raises(ValueError, match="roman"):
        parse_roman("X7", tonic=0)


def test_key_names_follow_key_signatures():
    assert key_name(3, "major") == "Eb major"
    assert key_name(8, "minor") == "G# minor"
    assert spoken_key("Eb major") == "E-flat major"
    assert spoken_key("F# minor") == "F-sharp minor"


def test_voicings_hold_the_chord_in_range():
    chord = parse_roman("ii7", tonic=0)
    voiced = close_voicing(chord, 62)
    assert sorted(k % 12 for k in voiced) == sorted(chord.pitch_classes())
    assert max(voiced) - min(voiced) < 12 and abs(sum(voiced) / 4 - 62) <= 6
    assert power_voicing(parse_roman("I", 4), 40) == (40, 47, 52)
    bass, *upper = satb_voicing(parse_roman("IV", 0), 36, None)
    assert bass % 12 == 5 and bass < min(upper)


def test_scale_pitches_are_in_the_scale():
    keys = scale_pitches(9, "minor", 57, 69)  # A natural minor, A3..A4
    assert keys == [57, 59, 60, 62, 64, 65, 67, 69]
