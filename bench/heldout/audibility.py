"""Can each attribute be heard at all? A linear probe on hand-made signal features.

    python -m bench.heldout.audibility --root data/heldout

Per clip, 54 numbers: onset rate and eighth-note periodicity (tempo), the Krumhansl-Kessler
key-profile margin of major over minor of the frames' strongest peaks (mode), the share of power above 4 kHz (percussion), the
140-320 Hz to 320-2000 Hz ratio (register), the spread of frame energy and a 24-band log
spectrum's mean and spread over time (instrument). Per attribute, a logistic regression fit on
the train split and scored on test. Nothing is learnt from audio beyond that linear map: a high
score says the audio carries the attribute plainly, so a model that misses it has a modelling
gap, not a data one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from bench.heldout import layout
from bench.heldout.spec import ATTRIBUTES

from muscall.data.json_io import write_json

SR = 16000
N_FFT, HOP = 2048, 512
# Krumhansl-Kessler probe-tone profiles, tonic first.
MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def _power(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    frames = np.lib.stride_tricks.sliding_window_view(audio, N_FFT)[::HOP]
    power = np.abs(np.fft.rfft(frames * np.hanning(N_FFT), axis=1)) ** 2  # (T, F)
    return power, np.fft.rfftfreq(N_FFT, 1 / SR)


def onset_rate(audio: np.ndarray) -> float:
    """Rises of 4 dB or more in 10 ms frame energy over 30 ms, per second."""
    frames = audio[: len(audio) // 160 * 160].reshape(-1, 160)
    energy = 10 * np.log10(np.square(frames).mean(axis=1) + 1e-10)
    rise = energy[3:] - energy[:-3]
    peaks = (rise[1:-1] > 4) & (rise[1:-1] >= rise[:-2]) & (rise[1:-1] > rise[2:])
    return float(peaks.sum()) / (len(audio) / SR)


def mode_score(power: np.ndarray, hz: np.ndarray) -> float:
    """Best major-key profile correlation minus best minor one, over all twelve tonics, of the
    pitch classes of each frame's strongest peak (60-2500 Hz)."""
    band = (hz >= 60) & (hz <= 2500)
    peak = power[:, band].argmax(axis=1)
    pitch_class = np.round(12 * np.log2(hz[band][peak] / 440.0) + 69).astype(int) % 12
    weight = np.sqrt(power[:, band][np.arange(len(peak)), peak])
    chroma = np.bincount(pitch_class, weights=weight, minlength=12)

    def best(profile: np.ndarray) -> float:
        return max(np.corrcoef(chroma, np.roll(profile, tonic))[0, 1] for tonic in range(12))

    return best(MAJOR) - best(MINOR)


def eighth_periodicity(audio: np.ndarray) -> float:
    """Autocorrelation of the onset envelope at 0.17-0.23 s: fast eighths repeat there."""
    frames = audio[: len(audio) // 160 * 160].reshape(-1, 160)
    energy = 10 * np.log10(np.square(frames).mean(axis=1) + 1e-10)
    onset = np.maximum(0.0, np.diff(energy))
    onset = onset - onset.mean()
    acf = np.correlate(onset, onset, mode="full")[len(onset) - 1 :]
    return float(acf[17:24].max() / (acf[0] + 1e-12))  # lags in 10 ms frames


def features(audio: np.ndarray) -> np.ndarray:
    """One vector per clip: rhythm, key, band shares and a coarse log spectrum over time."""
    power, hz = _power(audio)
    total = power.sum()
    edges = np.geomspace(50, 8000, 25)
    bands = [
        power[:, (hz >= lo) & (hz < hi)].sum(1)
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
    ]
    log_bands = np.log10(np.stack(bands, axis=1) + 1e-10)  # (T, 24)
    low = power[:, (hz >= 140) & (hz < 320)].sum() / (
        power[:, (hz >= 320) & (hz < 2000)].sum() + 1e-12
    )
    scalars = [onset_rate(audio), eighth_periodicity(audio), mode_score(power, hz),
               power[:, hz >= 4000].sum() / total, np.log10(low + 1e-12),
               np.log10(power.sum(1) + 1e-10).std()]  # fmt: skip
    return np.concatenate([scalars, log_bands.mean(0), log_bands.std(0)])


def probe_accuracy(train_x, train_y, test_x, test_y, steps: int = 2000) -> float:
    """Percent of test items a multinomial logistic regression (fit on train) gets right."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-12
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    classes = sorted(set(train_y))
    target = np.eye(len(classes))[[classes.index(y) for y in train_y]]
    weights = np.zeros((train_x.shape[1] + 1, len(classes)))
    inputs = np.hstack([train_x, np.ones((len(train_x), 1))])
    for _ in range(steps):  # full-batch gradient descent with a little L2
        logits = inputs @ weights
        probs = np.exp(logits - logits.max(1, keepdims=True))
        probs /= probs.sum(1, keepdims=True)
        weights -= 0.5 * (inputs.T @ (probs - target) / len(inputs) + 1e-3 * weights)
    guess = (np.hstack([test_x, np.ones((len(test_x), 1))]) @ weights).argmax(1)
    return 100.0 * float(np.mean([classes[g] == y for g, y in zip(guess, test_y, strict=True)]))


def audibility(root: Path) -> dict[str, float]:
    """Each attribute's test accuracy by the probe; also written to <root>/audibility.json."""
    split = {
        s: json.loads((root / f"{layout.NAME}_{s}.json").read_text()) for s in ("train", "test")
    }
    x = {s: np.stack([features(np.load(root / e["audio_path"])) for e in split[s]]) for s in split}
    result = {}
    for attribute in ATTRIBUTES:
        y = {s: [e["attributes"][attribute] for e in split[s]] for s in split}
        result[attribute] = probe_accuracy(x["train"], y["train"], x["test"], y["test"])
    write_json(root / "audibility.json", result)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("data/heldout"))
    print(json.dumps(audibility(parser.parse_args(argv).root), indent=1))


if __name__ == "__main__":
    main()
