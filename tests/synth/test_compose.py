import numpy as np
import pytest

from muscall.synth.clip import make_clip
from muscall.synth.compose import Grid
from muscall.synth.grooves import CLOSED_HAT, DRUM_GROOVES
from muscall.synth.styles import GENRES

SECONDS = 6.0


@pytest.fixture(scope="module")
def clips():
    return [
        make_clip(5, i, GENRES[i % len(GENRES)], SECONDS, 16000, render_audio=False)
        for i in range(120)
    ]


def test_grid_swings_the_offbeat_eighth():
    assert Grid(60, 4, 0.5).seconds(2) == pytest.approx(0.5)
    assert Grid(60, 4, 0.67).seconds(2) == pytest.approx(0.67)
    assert Grid(120, 3, 0.5).seconds(12) == pytest.approx(1.5)  # a 3/4 bar at 120 BPM


def test_drum_track_exactly_when_attributes_say_drums(clips):
    for clip in clips:
        drum_notes = [n for t in clip.tracks if t.instrument.is_drums for n in t.notes]
        assert bool(drum_notes) == clip.attributes.has_drums
        if clip.attributes.genre == "classical":
            assert not drum_notes


def test_every_listed_instrument_plays_within_the_clip(clips):
    for clip in clips:
        assert tuple(t.instrument.name for t in clip.tracks) == clip.attributes.instruments
        for track in clip.tracks:
            assert track.notes, (clip.attributes.genre, track.role)
            for note in track.notes:
                assert 0 <= note.start < SECONDS and note.end > note.start
                assert 1 <= note.velocity <= 127 and 0 <= note.key <= 127


def test_soft_clips_are_played_with_lower_velocities(clips):
    def mean_velocity(dynamics):
        return np.mean(
            [
                n.velocity
                for c in clips
                if c.attributes.dynamics == dynamics
                for t in c.tracks
                for n in t.notes
            ]
        )

    assert mean_velocity("soft") < 0.65 * mean_velocity("loud")


def test_hi_hat_follows_the_tempo(clips):
    rock = [c for c in clips if c.attributes.groove == "rock_backbeat"]
    assert rock
    for clip in rock:
        drums = next(t for t in clip.tracks if t.instrument.is_drums)
        hats = np.array([n.start for n in drums.notes if n.key == CLOSED_HAT])
        assert DRUM_GROOVES["rock_backbeat"][CLOSED_HAT].count(".") == 8  # eighth notes
        assert np.median(np.diff(hats)) == pytest.approx(30 / clip.attributes.tempo_bpm, rel=0.1)


def test_waltz_bass_lands_on_the_downbeat_of_three_beat_bars(clips):
    waltzes = [c for c in clips if c.attributes.genre == "waltz" and "bass" in c.attributes.roles]
    assert waltzes
    for clip in waltzes:
        bar = 3 * 60 / clip.attributes.tempo_bpm
        bass = next(t for t in clip.tracks if t.role == "bass")
        phases = [(n.start / bar + 0.5) % 1 - 0.5 for n in bass.notes]
        assert max(abs(p) for p in phases) < 0.05
