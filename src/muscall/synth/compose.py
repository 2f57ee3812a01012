"""From a clip's attributes to note events per track, in seconds."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from muscall.synth.attributes import Attributes
from muscall.synth.grooves import ACCENTS, COMP_RHYTHMS, CRASH, DRUM_GROOVES
from muscall.synth.instruments import Instrument, instrument
from muscall.synth.lines import arpeggio, bass_bar, bass_low, melody, melody_keys
from muscall.synth.theory import Chord, close_voicing, parse_roman, power_voicing, satb_voicing

STEPS_PER_BEAT = 4
DRUM_HIT_SECONDS = 0.15
STRUM_SECONDS = 0.012  # delay between strings of a strummed guitar chord
JITTER_SECONDS = 0.004  # human timing; enough to avoid a machine-gun feel, not to smear
BASE_VELOCITY = {"soft": (42, 58), "loud": (96, 114)}
ROLE_LEVEL = {"drums": 1.0, "bass": 1.0, "chords": 0.8, "pad": 0.65, "lead": 1.0, "solo": 0.9}
CRASH_GROOVES = ("rock_backbeat", "rock_drive", "funk_sixteenths", "four_on_the_floor")


@dataclass(frozen=True)
class Note:
    """One note: start and end in seconds, MIDI key and velocity."""

    start: float
    end: float
    key: int
    velocity: int


@dataclass(frozen=True)
class Track:
    """What one instrument plays in the clip."""

    role: str
    instrument: Instrument
    notes: tuple[Note, ...]


@dataclass(frozen=True)
class Grid:
    """Sixteenth-note steps to seconds, with swing moving the off-beat eighth."""

    bpm: float
    beats: int
    swing: float

    @property
    def bar_steps(self) -> int:
        return self.beats * STEPS_PER_BEAT

    def seconds(self, step: float) -> float:
        beat, within = divmod(step, STEPS_PER_BEAT)
        # Piecewise-linear map of the four sixteenths in a beat; straight when swing is 0.5.
        points = (0.0, self.swing / 2, self.swing, (1 + self.swing) / 2, 1.0)
        low = int(within)
        frac = points[low] + (within - low) * (points[low + 1] - points[low])
        return (beat + frac) * 60.0 / self.bpm


def compose(attrs: Attributes, rng: np.random.Generator, seconds: float) -> list[Track]:
    """Every track of the clip, long enough to fill `seconds`."""
    style = attrs.style
    grid = Grid(attrs.tempo_bpm, style.beats, style.swing)
    bars = math.ceil(seconds / grid.seconds(grid.bar_steps)) + 1
    total = bars * grid.bar_steps
    chords = [parse_roman(numeral, attrs.tonic) for numeral in attrs.progression.split()]
    chord_steps = max(1, round(style.chord_bars * grid.bar_steps))

    def chord_at(step: float) -> Chord:
        return chords[int(step // chord_steps) % len(chords)]

    base = rng.uniform(*BASE_VELOCITY[attrs.dynamics])
    tracks = []
    for role, name in attrs.players:
        inst = instrument(name)
        hits = _role_hits(role, inst, attrs, rng, grid, total, chord_at)
        notes = _to_notes(hits, grid, rng, base * ROLE_LEVEL[role], seconds, inst.is_drums)
        tracks.append(Track(role, inst, notes))
    return tracks


def _role_hits(role, inst, attrs, rng, grid, total, chord_at) -> list:
    style, low = attrs.style, bass_low(inst.low)
    if role == "drums":
        return _drum_hits(attrs.groove, total, grid.bar_steps)
    if role == "bass":
        line = style.bass
        return _bars(lambda s: bass_bar(line, s, grid.bar_steps, chord_at, rng, low), grid, total)
    if role == "chords":
        return _chord_hits(style.comp, style.voicing, inst, grid, total, chord_at)
    if role == "pad":
        return _chord_hits("sustain", "triad", inst, grid, total, chord_at)
    if role == "lead":
        return _lead_hits(attrs, inst, rng, grid, total, chord_at)
    # A soloist covers the harmony and the bass line on one instrument.
    roots = _bars(lambda s: bass_bar("roots", s, grid.bar_steps, chord_at, rng, low), grid, total)
    voicing = "power" if style.voicing == "power" else "triad"
    return roots + _chord_hits(style.comp, voicing, inst, grid, total, chord_at)


def _bars(bar_hits, grid: Grid, total: int) -> list:
    return [hit for start in range(0, total, grid.bar_steps) for hit in bar_hits(start)]


def _drum_hits(groove: str, total: int, bar_steps: int) -> list:
    hits = [(0, 1, CRASH, 0.9)] if groove in CRASH_GROOVES else []
    for key, line in DRUM_GROOVES[groove].items():
        for step in range(total):
            mark = line[step % len(line)]
            if mark != ".":
                hits.append((step, 1, key, ACCENTS[mark]))
    return hits


def _chord_hits(rhythm: str, voicing: str, inst: Instrument, grid: Grid, total: int, chord_at):
    """Comping: each hit sounds the chord of its moment, voiced the style's way."""
    bars = COMP_RHYTHMS[rhythm] if rhythm != "sustain" else (((0, grid.bar_steps),),)
    strum = inst.family == "guitar" and voicing != "power"
    hits, previous = [], None
    for bar, start in enumerate(range(0, total, grid.bar_steps)):
        for step, length in bars[bar % len(bars)]:
            keys = _voice(chord_at(start + step), voicing, previous)
            previous = keys if voicing != "power" else None
            accent = 1.0 if step == 0 else 0.85
            for order, key in enumerate(keys):
                offset = order * STRUM_SECONDS if strum else 0.0
                hits.append((start + step, length, key, accent, offset))
    return hits


def _voice(chord: Chord, voicing: str, previous) -> tuple[int, ...]:
    if voicing == "power":
        return power_voicing(chord, 40)
    if voicing == "satb":
        return satb_voicing(chord, 36, previous)
    if voicing == "triad":
        return close_voicing(Chord(chord.root, chord.intervals[:3]), 62, previous)
    return close_voicing(Chord(chord.root, chord.intervals[:4]), 62, previous)


def _lead_hits(attrs: Attributes, inst: Instrument, rng, grid: Grid, total: int, chord_at):
    style = attrs.style
    if style.arpeggio:
        return arpeggio(total, chord_at, max(inst.low, 60))
    scale = f"blues_{attrs.mode}" if style.label == "blues" else attrs.mode
    keys = melody_keys(attrs.tonic, scale, inst.low, inst.high)
    return melody(rng, total, grid.bar_steps, style.lead_grid, style.lead_density, keys, chord_at)


def _to_notes(hits, grid: Grid, rng, level: float, seconds: float, drums: bool) -> tuple:
    """Hits to timed notes: humanised timing and velocity, anything past the clip dropped."""
    notes = []
    for hit in hits:
        step, length, key, accent = hit[:4]
        offset = hit[4] if len(hit) > 4 else 0.0
        start = grid.seconds(step) + offset + rng.normal(0.0, JITTER_SECONDS)
        start = max(0.0, start)
        if start >= seconds:
            continue
        end = start + DRUM_HIT_SECONDS if drums else grid.seconds(step + length) + offset
        velocity = int(np.clip(level * accent + rng.normal(0.0, 4.0), 1, 127))
        notes.append(Note(round(start, 5), round(max(end, start + 0.03), 5), int(key), velocity))
    return tuple(sorted(notes, key=lambda n: (n.start, n.key)))
