"""Keys, scales, chords written as roman numerals, and chord voicings in a register."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Spelling follows the usual key signature, so captions read "E-flat major", not "D# major".
MAJOR_TONICS = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MINOR_TONICS = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")

SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "blues_major": (0, 2, 3, 4, 7, 9),
    "blues_minor": (0, 3, 5, 6, 7, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
}

QUALITIES = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10),
    "m7b5": (0, 3, 6, 10),
    "9": (0, 4, 7, 10, 14),
    "m9": (0, 3, 7, 10, 14),
}

_NUMERALS = {"i": 0, "ii": 2, "iii": 4, "iv": 5, "v": 7, "vi": 9, "vii": 11}
_ROMAN = re.compile(r"^(b|#)?(i{1,3}|iv|v|vi{0,2})(maj7|m7b5|dim|7|9)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Chord:
    """A chord as a root pitch class and intervals above it."""

    root: int
    intervals: tuple[int, ...]

    def pitch_classes(self) -> tuple[int, ...]:
        return tuple((self.root + i) % 12 for i in self.intervals)


def key_name(tonic: int, mode: str) -> str:
    """'A minor', 'Eb major'."""
    names = MAJOR_TONICS if mode == "major" else MINOR_TONICS
    return f"{names[tonic % 12]} {mode}"


def spoken_key(name: str) -> str:
    """'Eb major' -> 'E-flat major', the way a caption writer would spell it."""
    tonic, mode = name.split()
    spoken = tonic[0] + ("-flat" if tonic.endswith("b") else "-sharp" if "#" in tonic else "")
    return f"{spoken} {mode}"


def parse_roman(numeral: str, tonic: int) -> Chord:
    """'bVII', 'ii7', 'V7', 'Imaj7', 'iim7b5', 'IV9' in the key whose tonic is `tonic`."""
    match = _ROMAN.match(numeral)
    if not match:
        raise ValueError(f"not a roman-numeral chord: {numeral!r}")
    accidental, degree, suffix = match.groups()
    upper = degree.isupper()
    root = tonic + _NUMERALS[degree.lower()] + {"b": -1, "#": 1, None: 0}[accidental]
    if suffix in ("maj7", "m7b5", "dim"):
        quality = suffix
    elif suffix in ("7", "9"):
        quality = suffix if upper else f"m{suffix}"
    else:
        quality = "maj" if upper else "min"
    return Chord(root % 12, QUALITIES[quality])


def scale_pitches(tonic: int, scale: str, low: int, high: int) -> list[int]:
    """Every MIDI key of the scale between `low` and `high` inclusive."""
    degrees = {(tonic + d) % 12 for d in SCALES[scale]}
    return [key for key in range(low, high + 1) if key % 12 in degrees]


def lowest_at_or_above(pitch_class: int, low: int) -> int:
    """The lowest MIDI key with this pitch class that is not below `low`."""
    return low + (pitch_class - low) % 12


def close_voicing(chord: Chord, center: int, previous: tuple[int, ...] | None = None) -> tuple:
    """The inversion of the chord in close position nearest `center` (or the last voicing)."""
    pcs = sorted(set(chord.pitch_classes()), key=lambda pc: (pc - chord.root) % 12)
    target = sum(previous) / len(previous) if previous else center
    best = None
    for inversion in range(len(pcs)):
        order = pcs[inversion:] + pcs[:inversion]
        for start in range(center - 12, center + 1):
            if start % 12 != order[0]:
                continue
            keys = [start]
            for pc in order[1:]:
                keys.append(keys[-1] + (pc - keys[-1]) % 12)
            score = abs(sum(keys) / len(keys) - target)
            if best is None or score < best[0]:
                best = (score, tuple(keys))
    return best[1]


def power_voicing(chord: Chord, low: int) -> tuple[int, ...]:
    """Root, fifth and octave from the lowest root at or above `low`: the rock guitar shape."""
    root = lowest_at_or_above(chord.root, low)
    return (root, root + 7, root + 12)


def satb_voicing(chord: Chord, bass_low: int, previous: tuple[int, ...] | None) -> tuple:
    """Four voices: the root in the bass and a close triad above it, for hymn-like writing."""
    bass = lowest_at_or_above(chord.root, bass_low)
    upper = close_voicing(Chord(chord.root, chord.intervals[:3]), 67, previous and previous[1:])
    return (bass, *upper)
