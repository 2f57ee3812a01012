"""One captioned clip from (seed, index): attributes, notes, audio and captions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from muscall.synth.attributes import Attributes, sample_attributes
from muscall.synth.captions import sentence_caption, tag_caption
from muscall.synth.compose import Track, compose
from muscall.synth.render import render
from muscall.synth.styles import GENRES


@dataclass(frozen=True)
class Clip:
    """A rendered clip with what it is and how it is described."""

    audio_id: str
    attributes: Attributes
    tracks: tuple[Track, ...]
    audio: np.ndarray
    sentence: str
    tags: str


def audio_id(index: int) -> str:
    return f"synth_{index:05d}"


def genre_plan(seed: int, num_clips: int) -> list[str]:
    """Each clip's genre: as even as the count allows, in a seeded random order."""
    rng = np.random.default_rng([seed, num_clips])
    order = rng.permutation(np.arange(num_clips) % len(GENRES))
    return [GENRES[i] for i in order]


def clip_streams(seed: int, index: int) -> tuple[np.random.Generator, ...]:
    """Independent RNGs for attributes, notes and captions of clip `index`.

    Separate streams keep a caption-wording change from altering the audio, and vice versa;
    seeding from (seed, index) makes a clip the same whichever worker renders it.
    """
    children = np.random.SeedSequence([seed, index]).spawn(3)
    return tuple(np.random.default_rng(child) for child in children)


def make_clip(
    seed: int, index: int, genre: str, seconds: float, sample_rate: int, render_audio: bool = True
) -> Clip:
    """Sample, compose, render and caption clip `index` (audio left empty if not rendered)."""
    attr_rng, note_rng, text_rng = clip_streams(seed, index)
    attrs = sample_attributes(attr_rng, genre)
    tracks = tuple(compose(attrs, note_rng, seconds))
    audio = (
        render(tracks, seconds, sample_rate, attrs.dynamics)
        if render_audio
        else np.zeros(0, np.float32)
    )
    sentence = sentence_caption(attrs, text_rng)
    return Clip(audio_id(index), attrs, tracks, audio, sentence, tag_caption(attrs, text_rng))
