"""What a clip is: style, tempo, key, dynamics, players and mood, sampled from its style."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from muscall.synth.instruments import instrument
from muscall.synth.styles import STYLE_BY_LABEL, Style
from muscall.synth.theory import key_name

SLOW_BELOW, FAST_FROM = 90, 125  # BPM boundaries of the tempo words
TEMPO_MARGIN = 4  # tempos this close to a boundary are redrawn so the word is clear-cut
TEXTURES = ("solo", "small group", "full band")

# (mode, tempo word, dynamics) -> mood: the rule the captions and tests share.
MOOD_RULES = {
    ("major", "fast", "loud"): "energetic",
    ("major", "fast", "soft"): "happy",
    ("major", "moderate", "loud"): "happy",
    ("major", "moderate", "soft"): "relaxed",
    ("major", "slow", "loud"): "relaxed",
    ("major", "slow", "soft"): "calm",
    ("minor", "fast", "loud"): "tense",
    ("minor", "fast", "soft"): "dark",
    ("minor", "moderate", "loud"): "dark",
    ("minor", "moderate", "soft"): "sad",
    ("minor", "slow", "loud"): "sad",
    ("minor", "slow", "soft"): "sad",
}
MOODS = ("energetic", "happy", "relaxed", "calm", "sad", "dark", "tense")


@dataclass(frozen=True)
class Attributes:
    """The sampled facts about one clip that both the music and its captions follow."""

    genre: str
    tempo_bpm: int
    tonic: int
    mode: str
    dynamics: str
    players: tuple[tuple[str, str], ...]  # (role, instrument name), in the style's role order
    progression: str
    groove: str | None

    @property
    def style(self) -> Style:
        return STYLE_BY_LABEL[self.genre]

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(role for role, _ in self.players)

    @property
    def instruments(self) -> tuple[str, ...]:
        return tuple(name for _, name in self.players)

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(instrument(name).family for name in self.instruments))

    @property
    def has_drums(self) -> bool:
        return "drums" in self.roles

    @property
    def tempo_word(self) -> str:
        return tempo_word(self.tempo_bpm)

    @property
    def texture(self) -> str:
        count = len(self.players)
        return TEXTURES[0] if count == 1 else TEXTURES[1] if count <= 3 else TEXTURES[2]

    @property
    def mood(self) -> str:
        return MOOD_RULES[(self.mode, self.tempo_word, self.dynamics)]

    @property
    def key(self) -> str:
        return key_name(self.tonic, self.mode)

    def to_json(self) -> dict:
        """The attributes as written into the dataset's JSON entries."""
        return {
            "genre": self.genre,
            "instruments": list(self.instruments),
            "roles": {role: name for role, name in self.players},
            "families": list(self.families),
            "tempo_bpm": self.tempo_bpm,
            "tempo": self.tempo_word,
            "meter": f"{self.style.beats}/4",
            "key": self.key,
            "mode": self.mode,
            "dynamics": self.dynamics,
            "texture": self.texture,
            "mood": self.mood,
            "has_drums": self.has_drums,
        }


def tempo_word(bpm: float) -> str:
    """'slow', 'moderate' or 'fast'."""
    return "slow" if bpm < SLOW_BELOW else "fast" if bpm >= FAST_FROM else "moderate"


def sample_attributes(rng: np.random.Generator, genre: str) -> Attributes:
    """Draw one clip's attributes for a style."""
    style = STYLE_BY_LABEL[genre]
    mode = "minor" if rng.random() < style.minor_prob else "major"
    players = _sample_players(rng, style)
    has_drums = any(role == "drums" for role, _ in players)
    return Attributes(
        genre=genre,
        tempo_bpm=_sample_tempo(rng, style),
        tonic=int(rng.integers(12)),
        mode=mode,
        dynamics="loud" if rng.random() < style.loud_prob else "soft",
        players=players,
        progression=str(rng.choice(style.progressions[mode])),
        groove=str(rng.choice(style.grooves)) if has_drums else None,
    )


def _sample_tempo(rng: np.random.Generator, style: Style) -> int:
    while True:
        bpm = int(rng.integers(style.tempo[0], style.tempo[1] + 1))
        if min(abs(bpm - SLOW_BELOW), abs(bpm - FAST_FROM)) >= TEMPO_MARGIN:
            return bpm


def _sample_players(rng: np.random.Generator, style: Style) -> tuple[tuple[str, str], ...]:
    """Pick the texture, then which roles play (by priority, sometimes swapped) and on what."""
    texture = int(rng.choice(3, p=np.asarray(style.textures) / sum(style.textures)))
    if texture == 0:
        return (("solo", str(rng.choice(style.solo))),)
    count = int(rng.integers(2, 4)) if texture == 1 else int(rng.integers(4, len(style.roles) + 1))
    roles = list(style.roles[:count])
    spare = style.roles[count:]
    if spare and rng.random() < 0.3:
        roles[-1] = str(rng.choice(spare))
    # The role with the fewest choices picks first, so two roles never need one instrument.
    chosen: dict[str, str] = {}
    for role in sorted(roles, key=lambda r: len(style.players[r])):
        options = [name for name in style.players[role] if name not in chosen.values()]
        if options:
            chosen[role] = str(rng.choice(options))
    return tuple((role, chosen[role]) for role in style.roles if role in chosen)
