"""Tiny builds shared by the synth tests: 20 clips of 2.5 s, rendered once per session."""

from __future__ import annotations

import pytest

from muscall.synth import build_dataset

TINY = {"num_clips": 20, "clip_seconds": 2.5, "seed": 3}


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory):
    """A dataset rendered in this process (workers=1)."""
    root = tmp_path_factory.mktemp("synth") / "one_worker"
    summary = build_dataset(root, workers=1, **TINY)
    return root, summary


@pytest.fixture(scope="session")
def tiny_build_two_workers(tmp_path_factory):
    """The same parameters rendered by two worker processes."""
    root = tmp_path_factory.mktemp("synth") / "two_workers"
    build_dataset(root, workers=2, **TINY)
    return root
