"""The audibility probe: its mode feature and its linear probe do what they claim."""

from __future__ import annotations

import dataclasses

import numpy as np
from bench.heldout.audibility import _power, features, mode_score, probe_accuracy
from bench.heldout.render import render
from bench.heldout.spec import plan


def test_mode_score_leans_major_for_major_clips():
    """A crude detector (about 80 % right on the test split): right on most pairs."""
    right = 0
    for spec in plan(0, 8):
        quiet = dataclasses.replace(spec, instrument="marimba", percussion="without percussion")
        major, minor = (
            mode_score(*_power(render(dataclasses.replace(quiet, mode=m), 6.0, 16000, seed=0)))
            for m in ("major", "minor")
        )
        right += major > minor
    assert right >= 6


def test_probe_separates_separable_classes_and_not_noise():
    rng = np.random.default_rng(0)
    labels = ["a", "b", "c"] * 40
    centre = {"a": 0.0, "b": 3.0, "c": 6.0}
    x = np.stack([rng.normal(centre[y], 0.3, size=4) for y in labels])
    assert probe_accuracy(x[:90], labels[:90], x[90:], labels[90:]) == 100.0
    noise = rng.normal(size=(120, 4))
    assert probe_accuracy(noise[:90], labels[:90], noise[90:], labels[90:]) < 70.0


def test_features_are_one_finite_vector_per_clip():
    audio = render(plan(0, 1)[0], 2.0, 16000, seed=0)
    vector = features(audio)
    assert vector.shape == (54,) and np.isfinite(vector).all()
