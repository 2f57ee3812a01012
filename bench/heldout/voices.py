"""The held-out sound sources, each a different synthesis method, in numpy alone.

koto: Karplus-Strong plucked string; marimba: modal (decaying inharmonic partials);
bells: two-operator FM; theremin: a vibrato sine with a slow swell. Each returns one note,
its tail included, at full scale; the mixer sets the level.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

RING_SECONDS = {"koto": 1.2, "marimba": 0.6, "bells": 1.6, "theremin": 0.12}


def frequency(pitch: int) -> float:
    return 440.0 * 2.0 ** ((pitch - 69) / 12)


def _time(seconds: float, sample_rate: int) -> np.ndarray:
    return np.arange(int(seconds * sample_rate)) / sample_rate


def koto(pitch: int, length: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """A noise burst in a delay line whose averaging filter loses the highs on every pass."""
    hz = frequency(pitch)
    period = int(np.ceil(sample_rate / hz))
    total = int((length + RING_SECONDS["koto"]) * sample_rate * (period + 0.5) * hz / sample_rate)
    out = np.zeros(total + period + 1)
    # A soft plectrum: the noise burst smoothed, and without the DC offset the loop would keep.
    burst = np.convolve(rng.uniform(-1.0, 1.0, period), (0.25, 0.5, 0.25), mode="same")
    out[1 : period + 1] = burst - burst.mean()
    decay = np.exp(-2.5 / hz)  # per pass: about -22 dB a second at every pitch
    # Block by block: sample n needs n - period and n - period - 1, both a block back.
    for start in range(period + 1, len(out), period):
        stop = min(start + period, len(out))
        out[start:stop] = (
            decay
            * 0.5
            * (out[start - period : stop - period] + out[start - period - 1 : stop - period - 1])
        )
    # The loop's period is (period + 0.5) samples: resample to the exact pitch.
    ratio = hz * (period + 0.5) / sample_rate
    positions = np.arange(0, len(out) - 1, ratio)
    return np.interp(positions, np.arange(len(out)), out)


def marimba(pitch: int, length: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """A struck bar: partials at 1, 3.93 and 9.2 times the pitch, the upper ones dying first."""
    hz = frequency(pitch)
    t = _time(length * 0.3 + RING_SECONDS["marimba"], sample_rate)
    out = np.zeros_like(t)
    for ratio, amplitude, decay in ((1.0, 1.0, 5.0), (3.93, 0.4, 14.0), (9.2, 0.15, 30.0)):
        if hz * ratio < 0.45 * sample_rate:
            out += amplitude * np.sin(2 * np.pi * hz * ratio * t) * np.exp(-decay * t)
    attack = np.minimum(1.0, t / 0.002)
    return out * attack


def bells(pitch: int, length: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Two-operator FM at a 1:3.5 ratio, the index falling as the bell rings out."""
    hz = frequency(pitch)
    t = _time(length * 0.5 + RING_SECONDS["bells"], sample_rate)
    ratio = 3.5
    # Keep the strongest sidebands under Nyquist: the index shrinks for high notes.
    peak_index = min(3.0, max(0.3, (0.45 * sample_rate / hz - 1) / ratio - 1))
    index = peak_index * np.exp(-3.0 * t)
    out = np.sin(2 * np.pi * hz * t + index * np.sin(2 * np.pi * hz * ratio * t))
    return out * np.exp(-2.2 * t) * np.minimum(1.0, t / 0.001)


def theremin(pitch: int, length: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """A sine with a little second harmonic, a 5.5 Hz vibrato and a slow swell in and out."""
    hz = frequency(pitch)
    t = _time(length + RING_SECONDS["theremin"], sample_rate)
    vibrato = 1.0 + 0.007 * np.sin(2 * np.pi * 5.5 * t + rng.uniform(0, 2 * np.pi))
    phase = 2 * np.pi * np.cumsum(hz * vibrato) / sample_rate
    out = np.sin(phase) + 0.15 * np.sin(2 * phase)
    swell = np.minimum(1.0, t / 0.06) * np.clip((length + 0.12 - t) / 0.12, 0.0, 1.0)
    return out * swell


VOICES: dict[str, Callable[..., np.ndarray]] = {
    "koto": koto,
    "marimba": marimba,
    "bells": bells,
    "theremin": theremin,
}
