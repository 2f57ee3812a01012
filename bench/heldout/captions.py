"""Held-out captions: several templates of their own, each naming all five attributes.

The wording is this generator's own (none of it comes from `muscall.synth`), with a few
phrasings per attribute value so that no template or phrase alone identifies a clip.
"""

from __future__ import annotations

import numpy as np
from bench.heldout.spec import ClipSpec

CAPTIONS_PER_CLIP = 3
INSTRUMENT_WORDS = {
    "koto": ("koto", "plucked koto", "Japanese koto"),
    "marimba": ("marimba", "wooden marimba", "mallet marimba"),
    "bells": ("bells", "chiming bells", "tuned bells"),
    "theremin": ("theremin", "wavering theremin", "eerie theremin"),
}
TEMPO_WORDS = {
    "slow": ("slow", "languid", "plodding", "drawn-out"),
    "fast": ("fast", "rapid", "racing", "hurried"),
}
MODE_WORDS = {
    "major": ("in a major key", "in major", "with a major tonality"),
    "minor": ("in a minor key", "in minor", "with a minor tonality"),
}
PERCUSSION_WORDS = {
    "with percussion": ("with percussion", "over a noisy drum pulse", "backed by clattering beats"),
    "without percussion": ("without percussion", "with no drums at all", "with no beat behind it"),
}
REGISTER_WORDS = {
    "low": ("in a low register", "pitched low", "deep in the bass range"),
    "high": ("in a high register", "pitched high", "up in the treble range"),
}


def _words(spec: ClipSpec, rng: np.random.Generator) -> dict[str, str]:
    """One phrasing of each attribute, drawn for this caption."""

    def pick(table: dict, key: str) -> str:
        return str(rng.choice(table[key]))

    return {
        "instrument": pick(INSTRUMENT_WORDS, spec.instrument),
        "tempo": pick(TEMPO_WORDS, spec.tempo),
        "mode": pick(MODE_WORDS, spec.mode),
        "percussion": pick(PERCUSSION_WORDS, spec.percussion),
        "register": pick(REGISTER_WORDS, spec.register),
    }


TEMPLATES = (
    "{instrument} {mode}, {tempo}, {register}, {percussion}",
    "a {tempo} {instrument} tune {register} {mode}, {percussion}",
    "recording of {instrument} {register}: {tempo} and {mode}, {percussion}",
    "{percussion}, a {tempo} line on {instrument} {mode}, {register}",
    "{instrument} played {register} {mode} at a {tempo} pace, {percussion}",
    "{tempo} arpeggios {mode} on {instrument}, {register} and {percussion}",
)


def captions(spec: ClipSpec, rng: np.random.Generator) -> list[str]:
    """CAPTIONS_PER_CLIP captions of `spec`, each from a different template."""
    chosen = rng.choice(len(TEMPLATES), size=CAPTIONS_PER_CLIP, replace=False)
    texts = []
    for template in chosen:
        text = TEMPLATES[int(template)].format(**_words(spec, rng))
        texts.append(text[0].upper() + text[1:] + ".")
    return texts
