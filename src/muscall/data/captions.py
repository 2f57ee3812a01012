"""Caption split files in MusCALL's layout: `<root>/<name>_<split>.json`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from muscall.data.json_io import read_json
from muscall.errors import DatasetError

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class CaptionedAudio:
    """One track and every caption written for it."""

    audio_id: str
    audio_path: Path
    captions: tuple[str, ...]


def find_name(root: Path, name: str | None) -> str:
    """The dataset prefix: `name` if given, else the one prefix that has a `_train.json`."""
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder not found (set data.root)")
    if name:
        return name
    prefixes = sorted(p.name[: -len("_train.json")] for p in root.glob("*_train.json"))
    if len(prefixes) == 1:
        return prefixes[0]
    if not prefixes:
        raise DatasetError(f"{root}: no <name>_train.json found; is data.root the dataset folder?")
    raise DatasetError(
        f"{root}: several datasets ({', '.join(prefixes)}); choose one with data.name"
    )


def split_path(root: Path, name: str, split: str) -> Path:
    """Where a split's captions live; every dataset reader and writer names it here."""
    return root / f"{name}_{split}.json"


def read_split(root: Path, name: str, split: str) -> list[CaptionedAudio]:
    """Read one split; entries sharing an `audio_id` are merged into one multi-caption track.

    Entries with missing keys or empty captions are skipped with a warning naming the file
    and the entry, so one bad line never stops a run; a file with no usable entry is an error.
    """
    path = split_path(root, name, split)
    entries = _load_json_list(path)
    tracks: dict[str, CaptionedAudio] = {}
    skipped = 0
    for index, entry in enumerate(entries):
        problem = _entry_problem(entry)
        if problem:
            log.warning("%s: entry %d skipped: %s", path, index, problem)
            skipped += 1
            continue
        captions = _captions_of(entry)
        audio_id = str(entry["audio_id"])
        audio_path = (root / entry["audio_path"]).resolve()
        if audio_id in tracks:
            old = tracks[audio_id]
            captions = old.captions + tuple(c for c in captions if c not in old.captions)
        tracks[audio_id] = CaptionedAudio(audio_id, audio_path, captions)
    if not tracks:
        raise DatasetError(f"{path}: no usable entries ({skipped} skipped, see warnings above)")
    return list(tracks.values())


def _load_json_list(path: Path) -> list:
    data = read_json(path, "split file")
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a JSON list of {{audio_id, caption, audio_path}}")
    return data


def _entry_problem(entry) -> str | None:
    if not isinstance(entry, dict):
        return "not a JSON object"
    for key in ("audio_id", "caption", "audio_path"):
        if key not in entry:
            return f"missing key {key!r}"
    if not _captions_of(entry):
        return "empty caption"
    return None


def _captions_of(entry: dict) -> tuple[str, ...]:
    caption = entry["caption"]
    captions = caption if isinstance(caption, list) else [caption]
    return tuple(c.strip() for c in captions if isinstance(c, str) and c.strip())
