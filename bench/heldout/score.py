"""The notes of a held-out clip: an arpeggiated progression over a held chord, and a beat."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from bench.heldout.spec import ClipSpec

# Minor is harmonic minor: its raised seventh makes the dominant chord major, as most music in
# a minor key does, and keeps a minor clip from sounding like its relative major.
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 11)}
# Scale degrees (0 = tonic) of each bar's chord; every progression opens on the tonic so the
# mode's third is heard in the first bar.
PROGRESSIONS = ((0, 3, 4, 0), (0, 5, 3, 4), (0, 4, 5, 3), (0, 3, 0, 4))
# Chord-tone figures (0 root, 1 third, 2 fifth, 3 octave) for one beat each (slow) or one
# eighth each (fast); a bar plays one figure, cycled to fill it.
FIGURES = ((0, 1, 2, 1), (0, 2, 1, 3), (0, 1, 2, 3, 2, 1, 0, 1), (3, 2, 1, 0, 1, 2, 3, 2))
BEATS_PER_BAR = 4
CHORD_LEVEL = 0.45  # the held chord sits under the line


class Note(NamedTuple):
    start: float  # seconds
    length: float  # seconds the note is held (a plucked or struck note rings past it)
    pitch: int  # MIDI note number
    level: float  # linear, 0-1


class Hit(NamedTuple):
    start: float
    drum: str  # "kick", "snare" or "hat"
    level: float


def triad(spec: ClipSpec, degree: int) -> list[int]:
    """The chord on a scale degree: root, third, fifth and octave, as MIDI notes."""
    scale = SCALES[spec.mode]
    notes = []
    for step in (degree, degree + 2, degree + 4, degree + 7):
        octave, position = divmod(step, len(scale))
        notes.append(spec.tonic + 12 * octave + scale[position])
    return notes


def melody(spec: ClipSpec, seconds: float, rng: np.random.Generator) -> list[Note]:
    """The line and the chords under it, until `seconds`."""
    beat = 60.0 / spec.bpm
    step = beat if spec.tempo == "slow" else beat / 2
    per_bar = round(BEATS_PER_BAR * beat / step)
    progression = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    notes, bar = [], 0
    while bar * per_bar * step < seconds:
        chord = triad(spec, progression[bar % len(progression)])
        start = bar * per_bar * step
        notes += [Note(start, per_bar * step, pitch, CHORD_LEVEL) for pitch in chord[:3]]
        figure = FIGURES[int(rng.integers(len(FIGURES)))]
        for slot in range(per_bar):
            onset = start + slot * step
            if onset < seconds:
                level = float(rng.uniform(0.75, 1.0))
                notes.append(Note(onset, step, chord[figure[slot % len(figure)]] + 12, level))
        bar += 1
    return notes


def beat_pattern(spec: ClipSpec, seconds: float, rng: np.random.Generator) -> list[Hit]:
    """Kick on beats 1 and 3, snare on 2 and 4, a hat on every eighth; none without drums."""
    if not spec.has_percussion:
        return []
    eighth = 30.0 / spec.bpm
    hits = []
    for slot in range(int(np.ceil(seconds / eighth))):
        start = slot * eighth
        if slot % 2 == 0:
            hits.append(Hit(start, "kick" if slot % 4 == 0 else "snare", 1.0))
        hits.append(Hit(start, "hat", float(rng.uniform(0.5, 0.8))))
    return hits
