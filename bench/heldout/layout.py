"""The held-out set on disk: stratified splits, caption files, per-attribute sets, ceiling."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from bench.heldout.ceiling import ceiling
from bench.heldout.spec import ATTRIBUTES, ClipSpec

from muscall.data.json_io import write_json

NAME = "heldout"
AUDIO_DIR = "audio"
SETS_DIR = "attributes"  # conf/zeroshot/attributes.yaml reads the sets from here
CEILING = "ceiling.json"
SPLITS = ("train", "val", "test")
SPLIT_SALT = 3
# Zero-shot prompts in this generator's own words, one list per attribute.
SET_TEMPLATES = {
    "instrument": ("{} music", "a tune on {}", "recording of {}"),
    "tempo": ("a {} tune", "{} music", "music at a {} pace"),
    "mode": ("a tune in a {} key", "music in {}", "a melody with a {} tonality"),
    "percussion": ("a tune {}", "music {}"),
    "register": ("a tune in a {} register", "music pitched {}"),
}


def audio_path(spec: ClipSpec) -> str:
    return f"{AUDIO_DIR}/{spec.audio_id}.npy"


def assign_splits(specs: Sequence[ClipSpec], seed: int, val: int, test: int) -> dict[str, list]:
    """Clip indices per split: shuffled within each combination, then dealt one combination
    at a time, so test and val hold every combination before any holds one twice."""
    rng = np.random.default_rng([seed, SPLIT_SALT])
    by_group: dict[tuple, list[int]] = defaultdict(list)
    for spec in specs:
        by_group[spec.group()].append(spec.index)
    members = [rng.permutation(by_group[key]).tolist() for key in sorted(by_group)]
    order = [rng.permutation(len(members)) for _ in range(max(map(len, members)))]
    dealt = [
        members[g][row] for row, perm in enumerate(order) for g in perm if row < len(members[g])
    ]
    return {
        "test": sorted(dealt[:test]),
        "val": sorted(dealt[test : test + val]),
        "train": sorted(dealt[test + val :]),
    }


def write_splits(root: Path, entries: Sequence[dict], splits: dict[str, list]) -> None:
    for split in SPLITS:
        write_json(root / f"{NAME}_{split}.json", [entries[i] for i in splits[split]])


def write_attribute_sets(root: Path, specs: Sequence[ClipSpec], test: Sequence[int]) -> None:
    """One single-label zero-shot set per attribute, of the test clips."""
    for attribute, labels in ATTRIBUTES.items():
        items = [
            {"audio_path": f"../{audio_path(specs[i])}", "label": getattr(specs[i], attribute)}
            for i in test
        ]
        write_json(
            root / SETS_DIR / f"{attribute}.json",
            {"type": "classification", "labels": list(labels),
             "templates": list(SET_TEMPLATES[attribute]), "items": items},
        )  # fmt: skip


def write_ceiling(root: Path, specs: Sequence[ClipSpec], entries: Sequence[dict], splits) -> dict:
    """The ideal model's expected metrics on val and test, beside the data."""
    return write_ceiling_from_splits(
        root, {s: [entries[i] for i in splits[s]] for s in ("val", "test")}
    )


def write_ceiling_from_splits(root: Path, split_entries: dict[str, Sequence[dict]]) -> dict:
    """The ceiling of each split's entries, and on test that of a model deaf to one attribute
    (the clips differing only in it fall into one group): how far each attribute can hold a
    model back."""
    result = {}
    for split, entries in split_entries.items():
        counts = [len(e["caption"]) for e in entries]
        result[split] = ceiling(
            [tuple(e["attributes"][a] for a in ATTRIBUTES) for e in entries], counts
        )
    test = split_entries["test"]
    result["test_deaf_to"] = {
        deaf: ceiling([tuple(e["attributes"][a] for a in ATTRIBUTES if a != deaf) for e in test],
                      [len(e["caption"]) for e in test])
        for deaf in ATTRIBUTES
    }  # fmt: skip
    result["grouped_by"] = list(ATTRIBUTES)
    write_json(root / CEILING, result)
    return result


def rewrite_ceiling(root: Path) -> dict:
    """ceiling.json again from the split files alone (the audio is not touched)."""
    splits = {s: json.loads((root / f"{NAME}_{s}.json").read_text()) for s in ("val", "test")}
    return write_ceiling_from_splits(root, splits)
