"""The dataset on disk: split assignment, caption JSON files and zero-shot sets."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from muscall.data.captions import SPLITS, split_path
from muscall.data.json_io import write_json
from muscall.synth.attributes import MOODS
from muscall.synth.captions import TEMPO_WORDS
from muscall.synth.instruments import FAMILIES
from muscall.synth.styles import GENRES

AUDIO_DIR = "audio"
ZEROSHOT_DIR = "zeroshot"
SPLIT_SALT = 7919  # keeps the split shuffle's stream apart from the clips' streams


def zeroshot_files(root: Path) -> tuple[Path, Path]:
    return root / ZEROSHOT_DIR / "genre.json", root / ZEROSHOT_DIR / "tags.json"


def audio_path(audio_id: str) -> str:
    """Where a clip's audio lives, relative to the dataset root."""
    return f"{AUDIO_DIR}/{audio_id}.npy"


def split_counts(num_clips: int, val_fraction: float, test_fraction: float) -> dict[str, int]:
    """Clips per split; a non-zero fraction gets at least one clip, so no split is empty."""
    test = max(1, round(num_clips * test_fraction)) if test_fraction > 0 else 0
    val = max(1, round(num_clips * val_fraction)) if val_fraction > 0 else 0
    return {"train": num_clips - val - test, "val": val, "test": test}


def assign_splits(
    genres: Sequence[str], seed: int, val_fraction: float, test_fraction: float
) -> dict[str, list[int]]:
    """Clip indices per split, stratified by genre: dealt round-robin from shuffled genres."""
    rng = np.random.default_rng([seed, SPLIT_SALT])
    by_genre = [[i for i, g in enumerate(genres) if g == label] for label in GENRES]
    for indices in by_genre:
        rng.shuffle(indices)
    dealt = [
        indices[row] for row in range(len(genres)) for indices in by_genre if row < len(indices)
    ]
    counts = split_counts(len(genres), val_fraction, test_fraction)
    test, val = dealt[: counts["test"]], dealt[counts["test"] : counts["test"] + counts["val"]]
    train = dealt[counts["test"] + counts["val"] :]
    return {"train": sorted(train), "val": sorted(val), "test": sorted(test)}


def write_splits(root: Path, name: str, entries: Sequence[dict], splits: dict) -> None:
    for split in SPLITS:
        write_json(split_path(root, name, split), [entries[i] for i in splits[split]])


def tag_labels(attributes: dict) -> list[str]:
    """A clip's tags for the tagging set: instrument families, mood and tempo word."""
    return [*attributes["families"], attributes["mood"], attributes["tempo"]]


def write_zeroshot(root: Path, entries: Sequence[dict], test: Sequence[int]) -> None:
    """Genre classification and tag sets made of the test clips, paths relative to the file."""
    genre_file, tags_file = zeroshot_files(root)
    items = [entries[i] for i in test]
    path_from_set = f"../{AUDIO_DIR}/"
    genre_items = [
        {
            "audio_path": path_from_set + Path(e["audio_path"]).name,
            "label": e["attributes"]["genre"],
        }
        for e in items
    ]
    write_json(genre_file, {"type": "classification", "labels": list(GENRES), "items": genre_items})
    tag_items = [
        {
            "audio_path": path_from_set + Path(e["audio_path"]).name,
            "labels": tag_labels(e["attributes"]),
        }
        for e in items
    ]
    # A tag that every test clip has, or none has, has no ROC-AUC: leave it out of the set.
    counts = {tag: sum(tag in item["labels"] for item in tag_items) for tag in _all_tags()}
    labels = [tag for tag, count in counts.items() if 0 < count < len(tag_items)]
    for item in tag_items:
        item["labels"] = [tag for tag in item["labels"] if tag in labels]
    write_json(tags_file, {"type": "tagging", "labels": labels, "items": tag_items})


def _all_tags() -> list[str]:
    return [*FAMILIES, *MOODS, *TEMPO_WORDS]
