"""Captions from attributes: varied sentences and a short tag list, both true to the audio."""

from __future__ import annotations

import numpy as np

from muscall.synth.attributes import Attributes
from muscall.synth.instruments import instrument
from muscall.synth.theory import spoken_key

TEMPO_WORDS = {
    "slow": ("slow", "slow-paced", "unhurried", "leisurely"),
    "moderate": ("moderate", "mid-tempo", "medium-tempo", "moderately paced"),
    "fast": ("fast", "up-tempo", "fast-paced", "brisk", "quick"),
}
MOOD_WORDS = {
    "energetic": ("energetic", "driving", "high-energy", "lively"),
    "happy": ("happy", "upbeat", "cheerful", "joyful"),
    "relaxed": ("relaxed", "laid-back", "easygoing", "mellow"),
    "calm": ("calm", "peaceful", "serene", "tranquil"),
    "sad": ("sad", "melancholic", "sorrowful", "mournful"),
    "dark": ("dark", "brooding", "moody", "somber"),
    "tense": ("tense", "intense", "dramatic", "urgent"),
}
DYNAMICS_WORDS = {
    "soft": ("soft", "quiet", "subdued", "delicate"),
    "loud": ("loud", "powerful", "punchy", "forceful"),
}
GROUP_WORDS = {2: ("a duo",), 3: ("a trio", "a small group")}
BAND_WORDS = {True: ("a full band", "a band"), False: ("a full ensemble", "an ensemble")}


def _word(rng: np.random.Generator, words: tuple[str, ...]) -> str:
    """The canonical word half the time, else a synonym: prompts use the canonical one."""
    return words[0] if rng.random() < 0.5 else str(rng.choice(words[1:]))


def _article(phrase: str) -> str:
    return f"an {phrase}" if phrase[0] in "aeiou8" else f"a {phrase}"


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _instrument_names(attrs: Attributes, rng: np.random.Generator) -> list[str]:
    """Instruments as a caption names them: the first three always, extras sometimes."""
    chosen = list(attrs.instruments[:3])
    chosen += [name for name in attrs.instruments[3:] if rng.random() < 0.6]
    names = [n if rng.random() < 0.7 else str(rng.choice(instrument(n).names())) for n in chosen]
    names = list(dict.fromkeys(names))
    rng.shuffle(names)
    return names


def _parts(attrs: Attributes, rng: np.random.Generator) -> dict:
    """Words for each attribute; an optional one is None when this caption leaves it out."""
    style = attrs.style
    features = [phrase for phrase, role in style.features if not role or role in attrs.roles]
    adjectives = [
        _word(rng, TEMPO_WORDS[attrs.tempo_word]) if rng.random() < 0.75 else None,
        _word(rng, MOOD_WORDS[attrs.mood]) if rng.random() < 0.75 else None,
        _word(rng, DYNAMICS_WORDS[attrs.dynamics]) if rng.random() < 0.5 else None,
    ]
    adjectives = [a for a in adjectives if a]
    rng.shuffle(adjectives)
    return {
        "name": style.names[0] if rng.random() < 0.7 else str(rng.choice(style.names[1:])),
        "noun": str(rng.choice(style.nouns)),
        "adjectives": adjectives,
        "instruments": _instrument_names(attrs, rng),
        "feature": str(rng.choice(features)) if features and rng.random() < 0.5 else None,
        "key": f" in {spoken_key(attrs.key)}" if rng.random() < 0.3 else "",
        "group": _group(attrs, rng) if len(attrs.players) > 1 and rng.random() < 0.5 else None,
    }


def _group(attrs: Attributes, rng: np.random.Generator) -> str:
    count = len(attrs.players)
    words = GROUP_WORDS[count] if count in GROUP_WORDS else BAND_WORDS[attrs.has_drums]
    return str(rng.choice(words))


def _with(parts: dict) -> str:
    """' with piano and bass, featuring a swing feel' (the feature only when drawn)."""
    text = f" with {_listing(parts['instruments'])}"
    return text + (f", featuring {parts['feature']}" if parts["feature"] else "")


def _adjectives(parts: dict, spoken: bool = False) -> str:
    """'slow, sad' before a noun; 'slow and sad' after a verb."""
    words = parts["adjectives"]
    if not words:
        return ""
    return _listing(words) if spoken else ", ".join(words)


def _sentence_plain(parts: dict, solo: bool) -> str:
    adjectives = _adjectives(parts)
    head = f"{adjectives} {parts['noun']}" if adjectives else parts["noun"]
    return f"{_article(head)}{_with(parts)}{parts['key']}."


def _sentence_played_by(parts: dict, solo: bool) -> str:
    who = _listing(parts["instruments"])
    if solo:
        who = f"solo {who}"
    elif parts["group"]:
        who = f"{parts['group']} of {who}"
    text = f"{parts['name']} music played by {who}{parts['key']}."
    if parts["adjectives"]:
        text += f" It sounds {_adjectives(parts, spoken=True)}."
    return text


def _sentence_instruments_first(parts: dict, solo: bool) -> str:
    players = _listing(parts["instruments"])
    verb = "plays" if len(parts["instruments"]) == 1 else "play"
    adjectives = _adjectives(parts)
    noun = f"{adjectives} {parts['noun']}" if adjectives else parts["noun"]
    return f"{players} {verb} {_article(noun)}{parts['key']}."


def _sentence_this_is(parts: dict, solo: bool) -> str:
    described = f" is {_adjectives(parts, spoken=True)}" if parts["adjectives"] else ""
    features = f", featuring {_listing(parts['instruments'])}"
    extra = f", with {parts['feature']}" if parts["feature"] else ""
    return f"this {parts['noun']}{described}{features}{extra}."


def _sentence_short(parts: dict, solo: bool) -> str:
    """A fragment without a full stop, the way many people caption music."""
    adjectives = _adjectives(parts, spoken=True)
    head = f"{adjectives} {parts['name']} music" if adjectives else f"{parts['name']} music"
    return f"{head}{_with(parts)}"


TEMPLATES = (
    _sentence_plain,
    _sentence_played_by,
    _sentence_instruments_first,
    _sentence_this_is,
    _sentence_short,
)


def sentence_caption(attrs: Attributes, rng: np.random.Generator) -> str:
    """One natural-language caption; always names the genre and at least one instrument."""
    parts = _parts(attrs, rng)
    template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
    text = template(parts, solo=len(attrs.players) == 1)
    return text[0].upper() + text[1:]


def tag_caption(attrs: Attributes, rng: np.random.Generator) -> str:
    """A comma-separated tag list: genre, instruments and their families, tempo, mood, loudness.

    Families ("woodwind", "strings") appear only here; they teach the words that zero-shot
    tagging prompts use.
    """
    families = [f for f in attrs.families if f not in attrs.instruments]
    tags = [*attrs.instruments, *families, attrs.tempo_word, attrs.mood, attrs.dynamics]
    if not attrs.has_drums:
        tags.append("no drums")
    if rng.random() < 0.3:
        tags.append(attrs.key)
    rng.shuffle(tags)
    genre = attrs.genre if rng.random() < 0.8 else str(rng.choice(attrs.style.names[1:]))
    position = 0 if rng.random() < 0.6 else int(rng.integers(len(tags) + 1))
    tags.insert(position, genre)
    return ", ".join(tags)
