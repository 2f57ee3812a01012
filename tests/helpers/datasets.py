"""Tiny datasets of tones in MusCALL's layout, labelled sets of them, and small CPU runs."""

from __future__ import annotations

import json

import numpy as np

WORDS = ("low", "middle", "high", "bright", "dark", "soft")
# One word (and pitch) per track of a 24-track split: retrieval that is neither saturated nor
# tied, so a metric can move and a wrong evaluation path shows in the numbers.
MANY_WORDS = (
    *WORDS,
    *("warm", "cold", "sharp", "round", "thin", "deep", "hollow", "airy", "glassy", "muddy"),
    *("clean", "dusty", "shiny", "plain", "sweet", "harsh", "gentle", "heavy"),
)


def write_tiny_dataset(
    root,
    counts=(12, 4, 4),
    seconds=1.5,
    sample_rate=16000,
    name="tiny",
    words=WORDS,
    semitones=6,
):
    """A dataset of tones in MusCALL's layout: each clip's pitch is named in its caption.

    Clip i gets word i mod len(words), pitched `semitones` above the previous word's.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "audio").mkdir(exist_ok=True)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    clip = 0
    for split, count in zip(("train", "val", "test"), counts, strict=True):
        entries = []
        for _ in range(count):
            word = words[clip % len(words)]
            freq = 110.0 * 2 ** (words.index(word) * semitones / 12)
            wave = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
            path = f"audio/clip{clip:03d}.npy"
            np.save(root / path, wave)
            entries.append(
                {"audio_id": f"clip{clip:03d}", "caption": f"a {word} tone", "audio_path": path}
            )
            clip += 1
        (root / f"{name}_{split}.json").write_text(json.dumps(entries))
    return root


def write_word_set(dataset, split="test", name="words"):
    """A labelled zero-shot set of a split's clips: the classes are the caption words."""
    entries = json.loads((dataset / f"tiny_{split}.json").read_text())
    items = [
        {"audio_path": f"../{e['audio_path']}", "label": e["caption"].split()[1]} for e in entries
    ]
    (dataset / "sets").mkdir(exist_ok=True)
    path = dataset / "sets" / f"{name}.json"
    path.write_text(json.dumps({"type": "classification", "items": items}))
    return path


def tiny_run(dataset, *extra, batch_size=4, workers=0):
    """Overrides of a small CPU training run of the tiny model on `dataset`, plus `extra`."""
    return [
        "model=tiny",
        "trainer=cpu",
        "data=folder",
        f"data.root={dataset}",
        "data.clip_seconds=1.0",
        f"data.batch_size={batch_size}",
        f"data.num_workers={workers}",
        "trainer.enable_progress_bar=false",
        *extra,
    ]


# Not the config's default templates: evaluating the checkpoint must find these in it.
SMALL_RUN_TEMPLATES = ["a {} tone", "{} sound"]
