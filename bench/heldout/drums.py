"""Noise-based percussion: a swept-sine kick, a band of noise for the snare, a hiss for the hat."""

from __future__ import annotations

import numpy as np

HIT_SECONDS = {"kick": 0.35, "snare": 0.2, "hat": 0.06}


def drum(name: str, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """One hit of `name` at full scale."""
    t = np.arange(int(HIT_SECONDS[name] * sample_rate)) / sample_rate
    noise = rng.standard_normal(len(t))
    if name == "kick":
        sweep = 45.0 + 90.0 * np.exp(-30.0 * t)  # the pitch drop of a struck membrane
        body = np.sin(2 * np.pi * np.cumsum(sweep) / sample_rate) * np.exp(-9.0 * t)
        return body + 0.2 * noise * np.exp(-200.0 * t)
    if name == "snare":
        rattle = np.diff(noise, prepend=0.0) * np.exp(-22.0 * t)  # first difference: brighter
        return 0.6 * rattle + 0.4 * np.sin(2 * np.pi * 190.0 * t) * np.exp(-30.0 * t)
    hiss = np.diff(np.diff(noise, prepend=0.0), prepend=0.0)  # second difference: highs only
    return 0.35 * hiss * np.exp(-70.0 * t)
