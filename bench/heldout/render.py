"""A held-out clip's waveform: its notes through its voice, its beat, mixed to one level."""

from __future__ import annotations

import numpy as np
from bench.heldout.drums import drum
from bench.heldout.score import beat_pattern, melody
from bench.heldout.spec import ClipSpec
from bench.heldout.voices import VOICES

LEVEL_DB = -26.0  # RMS of every clip, before its small jitter; leaves room for drum peaks
DRUMS_DB = -3.0  # the beat's RMS against the line's
PEAK = 0.98
CLIP_SALT = 2  # keeps the clips' streams apart from the plan's


def clip_rng(seed: int, spec: ClipSpec) -> np.random.Generator:
    return np.random.default_rng([seed, CLIP_SALT, spec.index])


def render(spec: ClipSpec, seconds: float, sample_rate: int, seed: int) -> np.ndarray:
    """`seconds` of float32 mono audio for `spec`, the same for the same arguments."""
    rng = clip_rng(seed, spec)
    frames = int(round(seconds * sample_rate))
    line = np.zeros(frames)
    voice = VOICES[spec.instrument]
    for note in melody(spec, seconds, rng):
        _add(line, note.level * voice(note.pitch, note.length, sample_rate, rng), note.start,
             sample_rate)  # fmt: skip
    mix = _normalised(line)
    hits = beat_pattern(spec, seconds, rng)
    if hits:
        beat = np.zeros(frames)
        for hit in hits:
            _add(beat, hit.level * drum(hit.drum, sample_rate, rng), hit.start, sample_rate)
        mix = mix + 10 ** (DRUMS_DB / 20) * _normalised(beat)
    mix = _normalised(mix) * 10 ** ((LEVEL_DB + spec.gain_db) / 20)
    peak = float(np.abs(mix).max(initial=0.0))
    if peak > PEAK:
        mix *= PEAK / peak
    return mix.astype(np.float32)


def _add(out: np.ndarray, sound: np.ndarray, start: float, sample_rate: int) -> None:
    begin = int(round(start * sample_rate))
    end = min(len(out), begin + len(sound))
    if end > begin:
        out[begin:end] += sound[: end - begin]


def _normalised(signal: np.ndarray) -> np.ndarray:
    """`signal` at unit RMS (silence stays silent)."""
    rms = float(np.sqrt(np.mean(np.square(signal))))
    return signal / rms if rms > 0 else signal
