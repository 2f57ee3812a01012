import numpy as np
import pytest

from muscall.synth.clip import make_clip
from muscall.synth.compose import Note
from muscall.synth.render import LEVEL_DB, PEAK_LIMIT, _events, render, synthesize

RATE, SECONDS = 16000, 3.0


def _high_band_share(audio: np.ndarray) -> float:
    """Share of the energy above 4 kHz: cymbals and snares live there, tonal parts mostly not."""
    spectrum = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / RATE)
    return float(spectrum[freqs > 4000].sum() / spectrum.sum())


def _clip_with(genre: str, drums: bool, start: int = 0):
    for index in range(start, start + 200):
        clip = make_clip(11, index, genre, SECONDS, RATE, render_audio=False)
        if clip.attributes.has_drums == drums and len(clip.tracks) > 1:
            return clip
    raise AssertionError(f"no {genre} clip with drums={drums}")


def _db(audio: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(audio.astype(np.float64) ** 2) + 1e-20))


@pytest.mark.parametrize("genre", ["rock", "jazz", "waltz", "reggae", "electronic", "latin"])
def test_drums_are_audible_in_the_mix(genre):
    clip = _clip_with(genre, drums=True)
    drums = synthesize([t for t in clip.tracks if t.instrument.is_drums], SECONDS, RATE)
    rest = synthesize([t for t in clip.tracks if not t.instrument.is_drums], SECONDS, RATE)
    full = synthesize(clip.tracks, SECONDS, RATE)
    # The mix is the sum of its parts (no drum voice lost), and the drums are not buried.
    assert _db(full - drums - rest) < _db(full) - 25
    assert _db(drums) > _db(rest) - 10
    assert _db(drums) > _db(full) - 12


def test_audio_format_level_and_determinism():
    clip = _clip_with("funk", drums=True)
    first = render(clip.tracks, SECONDS, RATE, "loud")
    again = render(clip.tracks, SECONDS, RATE, "loud")
    soft = render(clip.tracks, SECONDS, RATE, "soft")
    assert first.dtype == np.float32 and first.shape == (int(SECONDS * RATE),)
    assert np.array_equal(first, again)
    assert np.abs(first).max() <= PEAK_LIMIT + 1e-6 and np.isfinite(first).all()
    rms_db = [20 * np.log10(np.sqrt(np.mean(a.astype(np.float64) ** 2))) for a in (first, soft)]
    assert rms_db[1] == pytest.approx(LEVEL_DB["soft"], abs=0.1)
    assert rms_db[0] - rms_db[1] > 8  # loud stays clearly louder even if the peak was limited


def test_drumless_style_renders_tonal_audio():
    clip = _clip_with("classical", drums=False)
    audio = render(clip.tracks, SECONDS, RATE, clip.attributes.dynamics)
    assert np.abs(audio).max() > 0.01
    assert _high_band_share(audio) < 0.05


def test_overlapping_notes_on_one_key_are_cut_not_left_hanging():
    notes = [Note(0.0, 1.0, 60, 90), Note(0.5, 1.5, 60, 90), Note(0.2, 0.4, 64, 90)]
    events = sorted(_events(notes, 0, 1000))
    on_60 = [e[0] for e in events if e[3] == 60 and e[1] == 1]
    off_60 = [e[0] for e in events if e[3] == 60 and e[1] == 0]
    assert on_60 == [0, 500] and off_60 == [500, 1500]
