"""What a held-out clip is: five attributes a caption names, plus the details it does not."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np

# The attributes and their values; every caption names all five, so two clips with equal
# attributes are indistinguishable from their captions (see ceiling.py).
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "instrument": ("koto", "marimba", "bells", "theremin"),
    "tempo": ("slow", "fast"),
    "mode": ("major", "minor"),
    "percussion": ("with percussion", "without percussion"),
    "register": ("low", "high"),
}
BPM_RANGE = {"slow": (56.0, 74.0), "fast": (138.0, 166.0)}
# MIDI note of the lowest tonic a register may start from; the line spans about 1.5 octaves.
TONIC_FLOOR = {"low": 36, "high": 64}


@dataclass(frozen=True)
class ClipSpec:
    """One clip: its captioned attributes and the uncaptioned details drawn for it."""

    index: int
    instrument: str
    tempo: str
    mode: str
    percussion: str
    register: str
    bpm: float
    tonic: int  # MIDI note of the tonic the line is built on
    gain_db: float  # a small level jitter: loudness is not an attribute here

    @property
    def audio_id(self) -> str:
        return f"heldout_{self.index:05d}"

    @property
    def has_percussion(self) -> bool:
        return self.percussion == "with percussion"

    def attributes(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in ATTRIBUTES}

    def group(self) -> tuple[str, ...]:
        """The key of the clips a caption cannot tell apart from this one."""
        return tuple(getattr(self, name) for name in ATTRIBUTES)

    def to_json(self) -> dict:
        return asdict(self)


def combinations() -> list[tuple[str, ...]]:
    """Every combination of attribute values, in a fixed order."""
    return list(itertools.product(*ATTRIBUTES.values()))


def plan(seed: int, num_clips: int) -> list[ClipSpec]:
    """`num_clips` specs cycling through every combination (each cycle shuffled), so the
    combinations are as balanced as the count allows."""
    rng = np.random.default_rng([seed, 1])
    combos = combinations()
    specs = []
    while len(specs) < num_clips:
        for row in rng.permutation(len(combos)):
            if len(specs) == num_clips:
                break
            specs.append(_spec(rng, len(specs), combos[row]))
    return specs


def _spec(rng: np.random.Generator, index: int, combo: tuple[str, ...]) -> ClipSpec:
    values = dict(zip(ATTRIBUTES, combo, strict=True))
    low, high = BPM_RANGE[values["tempo"]]
    return ClipSpec(
        index=index,
        **values,
        bpm=round(float(rng.uniform(low, high)), 1),
        tonic=TONIC_FLOOR[values["register"]] + int(rng.integers(12)),
        gain_db=round(float(rng.uniform(-2.0, 2.0)), 2),
    )
