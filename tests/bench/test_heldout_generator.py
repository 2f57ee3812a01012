"""The held-out generator: deterministic, its attributes audible, its files readable by muscall."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from bench.heldout import layout
from bench.heldout.build import build
from bench.heldout.ceiling import ceiling
from bench.heldout.render import LEVEL_DB, PEAK, render
from bench.heldout.score import SCALES, melody
from bench.heldout.spec import ATTRIBUTES, plan

from muscall.data.captions import read_split
from muscall.data.labelled import read_labelled_set

SR = 16000
BASE = plan(0, 1)[0]


def _clip(**changes) -> np.ndarray:
    return render(dataclasses.replace(BASE, **changes), 6.0, SR, seed=0)


def _onsets_per_second(audio: np.ndarray) -> float:
    """Rises of at least 4 dB in frame energy over 30 ms, counted at their peaks."""
    hop = 160
    frames = audio[: len(audio) // hop * hop].reshape(-1, hop)
    energy = 10 * np.log10(np.square(frames).mean(axis=1) + 1e-10)
    rise = energy[3:] - energy[:-3]
    peaks = (rise[1:-1] > 4) & (rise[1:-1] >= rise[:-2]) & (rise[1:-1] > rise[2:])
    return float(peaks.sum()) / (len(audio) / SR)


def _power_share(audio: np.ndarray, low_hz: float, high_hz: float) -> float:
    power = np.abs(np.fft.rfft(audio)) ** 2
    hz = np.fft.rfftfreq(len(audio), 1 / SR)
    return float(power[(hz >= low_hz) & (hz < high_hz)].sum() / power.sum())


def test_plan_balances_every_combination_and_is_seeded():
    specs = plan(3, 130)
    counts = {}
    for spec in specs:
        counts[spec.group()] = counts.get(spec.group(), 0) + 1
    assert len(counts) == 64 and set(counts.values()) <= {2, 3}
    assert plan(3, 130) == specs != plan(4, 130)


def test_render_is_deterministic_and_level_set():
    first, second = _clip(), _clip()
    assert first.dtype == np.float32 and first.shape == (6 * SR,)
    np.testing.assert_array_equal(first, second)
    rms_db = 20 * np.log10(np.sqrt(np.mean(np.square(first))))
    limited = np.abs(first).max() == pytest.approx(PEAK)
    assert limited or rms_db == pytest.approx(LEVEL_DB + BASE.gain_db, abs=0.1)


@pytest.mark.parametrize("instrument", ["koto", "marimba", "bells"])
def test_fast_clips_have_several_times_the_onsets_of_slow_ones(instrument):
    quiet = {"instrument": instrument, "percussion": "without percussion"}
    slow = _onsets_per_second(_clip(tempo="slow", bpm=65.0, **quiet))
    fast = _onsets_per_second(_clip(tempo="fast", bpm=150.0, **quiet))
    assert fast > 2 * slow > 0


@pytest.mark.parametrize("instrument", ATTRIBUTES["instrument"])
def test_percussion_puts_energy_above_4khz(instrument):
    with_drums = _power_share(_clip(instrument=instrument, percussion="with percussion"), 4e3, 8e3)
    without = _power_share(_clip(instrument=instrument, percussion="without percussion"), 4e3, 8e3)
    assert with_drums > 0.05 and with_drums > 5 * without


@pytest.mark.parametrize("instrument", ATTRIBUTES["instrument"])
def test_low_register_has_the_power_below_300hz(instrument):
    quiet = {"instrument": instrument, "percussion": "without percussion"}
    low = _power_share(_clip(register="low", tonic=40, **quiet), 0, 300)
    high = _power_share(_clip(register="high", tonic=68, **quiet), 0, 300)
    assert low > 0.1 and high < 0.01


@pytest.mark.parametrize("mode", ["major", "minor"])
def test_every_note_is_in_the_mode_and_the_first_bar_sounds_its_third(mode):
    spec = dataclasses.replace(BASE, mode=mode)
    notes = melody(spec, 6.0, np.random.default_rng(0))
    assert {(n.pitch - spec.tonic) % 12 for n in notes} <= set(SCALES[mode])
    first_bar = [(n.pitch - spec.tonic) % 12 for n in notes if n.start == 0.0]
    assert (4 if mode == "major" else 3) in first_bar


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("heldout")
    manifest = build(root, num_clips=72, clip_seconds=1.0, val=4, test=8, workers=1)
    return root, manifest


def test_build_writes_the_layout_muscall_reads(tiny_set):
    root, manifest = tiny_set
    assert manifest["counts"] == {"train": 60, "val": 4, "test": 8}
    test = read_split(root, "heldout", "test")
    assert len(test) == 8 and all(len(track.captions) == 3 for track in test)
    assert np.load(root / test[0].audio_path).shape == (SR,)
    for attribute, labels in ATTRIBUTES.items():
        labelled = read_labelled_set(root / layout.SETS_DIR / f"{attribute}.json")
        assert labelled.labels == labels and len(labelled.audio_paths) == 8
    # Dealt a combination at a time: eight test clips, eight different combinations.
    entries = json.loads((root / "heldout_test.json").read_text())
    groups = [tuple(e["attributes"].values()) for e in entries]
    assert len(set(groups)) == 8
    stored = json.loads((root / layout.CEILING).read_text())
    assert (
        stored["test"] == ceiling(groups, [3] * 8) and stored["test"]["text_to_audio_R@1"] == 100.0
    )
    # Deaf to one attribute, a model can only do as well as the coarser grouping allows.
    for deaf in ATTRIBUTES:
        coarse = ceiling(
            [g[:i] + g[i + 1 :] for g in groups for i in [list(ATTRIBUTES).index(deaf)]], [3] * 8
        )
        assert stored["test_deaf_to"][deaf] == coarse
    assert layout.rewrite_ceiling(root) == stored


def test_build_is_reproducible_and_reuses_a_finished_set(tiny_set, tmp_path):
    root, manifest = tiny_set
    assert build(root, num_clips=72, clip_seconds=1.0, val=4, test=8, workers=1) == manifest
    again = tmp_path / "again"
    build(again, num_clips=72, clip_seconds=1.0, val=4, test=8, workers=2)
    assert (again / "heldout_train.json").read_text() == (root / "heldout_train.json").read_text()
    one = sorted((root / "audio").glob("*.npy"))[5].name
    np.testing.assert_array_equal(np.load(root / "audio" / one), np.load(again / "audio" / one))


def test_build_refuses_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(Exception, match="holds no held-out set"):
        build(tmp_path, num_clips=20, clip_seconds=1.0, val=2, test=2, workers=1)
