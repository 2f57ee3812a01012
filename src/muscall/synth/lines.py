"""Bass lines and melodies as (step, length, key, accent) on the sixteenth-note grid."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from muscall.synth.theory import Chord, lowest_at_or_above, scale_pitches

Hit = tuple[float, float, int, float]  # step, length in steps, MIDI key, accent 0..1
ChordAt = Callable[[float], Chord]

BASS_LOW = 33  # A1: bass roots fall in A1..G#2, where every GM bass preset sounds full


def bass_low(instrument_low: int) -> int:
    """Where an instrument's bass roots start: A1, or E2 for one that cannot go that low."""
    return max(BASS_LOW, min(instrument_low, 40))


def _tones(chord: Chord, low: int) -> tuple[int, int, int]:
    """The chord's root, third and fifth placed in the bass register."""
    root = lowest_at_or_above(chord.root, low)
    third = root + chord.intervals[1]
    fifth = root + chord.intervals[2] if root + chord.intervals[2] <= 52 else root - 5
    return root, third, fifth


# One bar each: (step, length in steps, tone, accent); tones are named from the chord root.
# fmt: off
BASS_PATTERNS: dict[str, tuple[tuple[float, float, str, float], ...]] = {
    "root_fifth": ((0, 6, "R", 1.0), (8, 6, "5", 0.85)),
    "reggae": ((0, 3, "R", 1.0), (3, 1, "R", 0.7), (6, 2, "5", 0.8), (10, 2, "3", 0.8),
               (12, 3, "R", 0.9)),
    "offbeat": ((2, 1.6, "R", 0.9), (6, 1.6, "8", 0.9), (10, 1.6, "R", 0.9), (14, 1.6, "8", 0.9)),
    "funk": ((0, 1.5, "R", 1.0), (3, 0.8, "8", 0.8), (6, 1, "R", 0.9), (7, 0.8, "8", 0.7),
             (10, 1, "b7", 0.85), (11, 0.8, "8", 0.7), (14, 1, "5", 0.85)),
    "bossa": ((0, 5.5, "R", 1.0), (6, 1.8, "5", 0.8), (8, 5.5, "5", 0.9), (14, 1.8, "R", 0.8)),
    "boogie": tuple((2 * i, 1.8, tone, 0.9 if i % 2 == 0 else 0.7)
                    for i, tone in enumerate(("R", "3", "5", "6", "b7", "6", "5", "3"))),
}
# fmt: on


def bass_bar(kind: str, start: int, steps: int, chord_at: ChordAt, rng, low: int) -> list[Hit]:
    """One bar of the named bass pattern from absolute step `start`, roots at or above `low`."""
    root, third, fifth = _tones(chord_at(start), low)
    if kind == "walking":
        return _walking(start, steps, chord_at, rng, low)
    if kind == "eighths":
        return [(start + s, 1.7, root, 1.0 if s % 4 == 0 else 0.75) for s in range(0, steps, 2)]
    if kind == "sustain":
        half = steps // 2
        return [(start + s, half, _tones(chord_at(start + s), low)[0], 0.85) for s in (0, half)]
    if kind == "roots":
        return [(start, steps, root, 0.9)]
    if kind == "waltz":  # root and fifth on alternate downbeats: the "oom"
        return [(start, 4, root if (start // steps) % 2 == 0 else fifth, 1.0)]
    tones = {"R": root, "3": third, "5": fifth, "6": root + 9, "b7": root + 10, "8": root + 12}
    return [(start + s, length, tones[t], accent) for s, length, t, accent in BASS_PATTERNS[kind]]


def _walking(start: int, steps: int, chord_at: ChordAt, rng, low: int) -> list[Hit]:
    """Quarter notes: root, two chord tones, then a half-step into the next root."""
    root, third, fifth = _tones(chord_at(start), low)
    next_root = _tones(chord_at(start + steps), low)[0]
    middle = [
        int(rng.choice([third, fifth, root + 12, fifth - 12 if fifth - 12 >= 28 else third]))
        for _ in range(steps // 4 - 2)
    ]
    approach = next_root + int(rng.choice([-1, 1]))
    line = [root, *middle, approach]
    return [(start + 4 * i, 3.6, key, 1.0 if i == 0 else 0.85) for i, key in enumerate(line)]


def melody(
    rng: np.random.Generator,
    total_steps: int,
    bar_steps: int,
    grid: int,
    density: float,
    keys: list[int],
    chord_at: ChordAt,
) -> list[Hit]:
    """A random-walk tune over scale keys, on chord tones at beats, breathing every two bars."""
    onsets = [s for s in range(0, total_steps, grid) if _plays(rng, s, bar_steps, density)]
    hits: list[Hit] = []
    index = len(keys) // 2
    for position, step in enumerate(onsets):
        index = int(np.clip(index + rng.choice([-2, -1, -1, 0, 1, 1, 2, 3, -3]), 0, len(keys) - 1))
        if step % 4 == 0:
            index = _nearest_chord_tone(keys, index, chord_at(step))
        end = onsets[position + 1] if position + 1 < len(onsets) else total_steps
        length = max(0.8, min(end - step, 2 * bar_steps) * 0.9)
        hits.append((step, length, keys[index], 1.0 if step % bar_steps == 0 else 0.85))
    return hits


def _plays(rng, step: int, bar_steps: int, density: float) -> bool:
    phrase_position = step % (2 * bar_steps)
    if phrase_position == 0:
        return True
    if phrase_position >= 2 * bar_steps - 4:
        return False  # a breath at the end of every two-bar phrase
    return bool(rng.random() < density)


def _nearest_chord_tone(keys: list[int], index: int, chord: Chord) -> int:
    tones = set(chord.pitch_classes())
    candidates = [i for i, key in enumerate(keys) if key % 12 in tones]
    if not candidates:
        return index
    return min(candidates, key=lambda i: abs(i - index))


def arpeggio(total_steps: int, chord_at: ChordAt, low: int) -> list[Hit]:
    """Sixteenth-note broken chords rising through an octave and a half: the synth arp."""
    hits = []
    for step in range(total_steps):
        chord = chord_at(step)
        root = lowest_at_or_above(chord.root, low)
        tones = [root + i for i in chord.intervals[:3]] + [
            root + 12,
            root + 12 + chord.intervals[1],
        ]
        hits.append((step, 0.8, tones[step % len(tones)], 1.0 if step % 4 == 0 else 0.7))
    return hits


def melody_keys(tonic: int, scale: str, low: int, high: int) -> list[int]:
    """The scale's keys in the lead's comfortable middle range."""
    middle = (low + high) // 2
    return scale_pitches(tonic, scale, max(low, middle - 9), min(high, middle + 10))
