"""Note events to a mono waveform through the General MIDI soundfont, offline."""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from muscall.errors import MuscallError
from muscall.synth.compose import Note, Track

DRUM_CHANNEL = 9
SYNTH_GAIN_DB = -6.0  # headroom inside the synth's float mix; the level is set afterwards
# Clips are brought to an RMS level by dynamics: a solo and a full band at the same marking
# sit at the same level, so "soft" and "loud" are what a listener hears, 12 dB apart.
LEVEL_DB = {"soft": -32.0, "loud": -20.0}
PEAK_LIMIT = 0.95
FRAME_BYTES = 8  # stereo float32


@functools.lru_cache(maxsize=1)
def soundfont_bytes() -> bytes:
    """The GM soundfont that ships inside pretty_midi, read once per process."""
    spec = importlib.util.find_spec("pretty_midi")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / "TimGM6mb.sf2"
        if path.is_file():
            return path.read_bytes()
    raise MuscallError(
        "the built-in dataset needs the soundfont TimGM6mb.sf2 from pretty_midi: "
        "run `make install` (or pip install pretty_midi)"
    )


def _synth(sample_rate: int):
    try:
        import tinysoundfont
    except ImportError as error:
        raise MuscallError(
            "the built-in dataset is rendered with tinysoundfont: run `make install` "
            "(or pip install --no-deps tinysoundfont==0.3.7)"
        ) from error
    synth = tinysoundfont.Synth(samplerate=sample_rate, gain=SYNTH_GAIN_DB)
    return synth, synth.sfload(soundfont_bytes())


def render(tracks: Sequence[Track], seconds: float, sample_rate: int, dynamics: str) -> np.ndarray:
    """Render the tracks to `seconds` of float32 mono audio at the level of `dynamics`."""
    mono = synthesize(tracks, seconds, sample_rate)
    rms = float(np.sqrt(np.mean(np.square(mono, dtype=np.float64))))
    if rms > 0:
        mono *= 10 ** (LEVEL_DB[dynamics] / 20) / rms
    peak = float(np.abs(mono).max(initial=0.0))
    if peak > PEAK_LIMIT:
        mono *= PEAK_LIMIT / peak
    return mono.astype(np.float32)


def synthesize(tracks: Sequence[Track], seconds: float, sample_rate: int) -> np.ndarray:
    """The tracks through the soundfont, mixed to mono at the synth's own level."""
    # A fresh synth per clip: no voice or controller state can leak from one clip into the
    # next, so a clip sounds the same whichever worker renders it and in what order.
    synth, sfid = _synth(sample_rate)
    events = []
    melodic = (c for c in range(16) if c != DRUM_CHANNEL)
    for track in tracks:
        inst = track.instrument
        channel = DRUM_CHANNEL if inst.is_drums else next(melodic)
        synth.program_select(channel, sfid, inst.bank, inst.program, is_drums=inst.is_drums)
        synth.control_change(channel, 7, inst.volume)
        events.extend(_events(track.notes, channel, sample_rate))
    frames = int(round(seconds * sample_rate))
    return _play(synth, sorted(events), frames).reshape(-1, 2).mean(axis=1)


def _events(notes: Sequence[Note], channel: int, sample_rate: int) -> list[tuple]:
    """(frame, on?, channel, key, velocity), each note cut before the next one on its key.

    The synth releases only one voice per note-off, so an overlap on one key would leave a
    note hanging or cut the wrong one.
    """
    events = []
    last_start: dict[int, int] = {}
    for note in sorted(notes, key=lambda n: (n.key, -n.start)):
        start = int(round(note.start * sample_rate))
        end = int(round(note.end * sample_rate))
        end = min(end, last_start.get(note.key, end))
        last_start[note.key] = start
        if end <= start:
            continue
        events.append((start, 1, channel, note.key, note.velocity))
        events.append((end, 0, channel, note.key, 0))
    return events


def _play(synth, events: list[tuple], frames: int) -> np.ndarray:
    """Advance the synth from event to event, writing straight into one stereo buffer."""
    buffer = memoryview(bytearray(frames * FRAME_BYTES))
    position = 0
    for frame, on, channel, key, velocity in events:
        frame = min(frame, frames)
        if frame > position:
            synth.generate_simple(
                frame - position, buffer[position * FRAME_BYTES : frame * FRAME_BYTES]
            )
            position = frame
        if frame >= frames:
            break
        if on:
            synth.noteon(channel, key, velocity)
        else:
            synth.noteoff(channel, key)
    if position < frames:
        synth.generate_simple(frames - position, buffer[position * FRAME_BYTES :])
    return np.frombuffer(buffer, dtype=np.float32)
