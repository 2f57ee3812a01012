"""Caption split files in MusCALL's layout: `<root>/<name>_<split>.json`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from muscall.data.bad_items import BadItemLog
from muscall.data.containment import OutsideFolder, resolve_inside
from muscall.data.json_io import read_json
from muscall.errors import DatasetError

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
# Longer captions are refused: one that long is a pasted document or the wrong column, and
# the text encoders read at most a few hundred characters (77-128 tokens), dropping the rest.
MAX_CAPTION_CHARS = 2000


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


def read_split(
    root: Path, name: str, split: str, bad_items: BadItemLog | None = None
) -> list[CaptionedAudio]:
    """Read one split; entries sharing an `audio_id` and `audio_path` merge into one track.

    A bad entry (not an object, a missing key, a caption that is empty, too long or not a
    string, an `audio_path` outside the dataset folder, an `audio_id` already used with
    another path) is skipped and reported to `bad_items`, by file, entry, audio_id and reason,
    so one bad line never stops a run; a file with no usable entry is an error.
    """
    path = split_path(root, name, split)
    entries = _load_json_list(path)
    bad_items = bad_items if bad_items is not None else BadItemLog()
    root = root.resolve()
    tracks: dict[str, CaptionedAudio] = {}
    first_entry: dict[str, int] = {}
    for index, entry in enumerate(entries):
        audio_id = _audio_id(entry)
        try:
            track = _parse(root, entry, audio_id)
            _check_duplicate(tracks.get(audio_id), track, first_entry.get(audio_id))
        except BadEntry as problem:
            bad_items.report(path, problem, kind=problem.kind, entry=index, audio_id=audio_id)
            continue
        old = tracks.get(audio_id)
        if old is not None:
            captions = old.captions + tuple(c for c in track.captions if c not in old.captions)
            track = CaptionedAudio(audio_id, track.audio_path, captions)
        first_entry.setdefault(audio_id, index)
        tracks[audio_id] = track
    if not tracks:
        raise DatasetError(
            f"{path}: no usable entries ({len(entries)} skipped, see warnings above)"
        )
    return list(tracks.values())


class BadEntry(ValueError):
    """Why an entry of a split file is skipped; `kind` is a key of bad_items.KINDS."""

    def __init__(self, reason: str, kind: str):
        super().__init__(reason)
        self.kind = kind


def _load_json_list(path: Path) -> list:
    data = read_json(path, "split file")
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a JSON list of {{audio_id, caption, audio_path}}")
    return data


def _audio_id(entry) -> str | None:
    """The entry's id when it has a usable one (a string or an integer)."""
    audio_id = entry.get("audio_id") if isinstance(entry, dict) else None
    if isinstance(audio_id, bool) or not isinstance(audio_id, (str, int)):
        return None
    return str(audio_id).strip() or None


def _parse(root: Path, entry, audio_id: str | None) -> CaptionedAudio:
    if not isinstance(entry, dict):
        raise BadEntry(f"not a JSON object but {type(entry).__name__}", "bad entry")
    for key in ("audio_id", "caption", "audio_path"):
        if key not in entry:
            raise BadEntry(f"missing key {key!r}", "bad entry")
    if audio_id is None:
        raise BadEntry(
            f"audio_id must be a non-empty string, got {entry['audio_id']!r}", "bad entry"
        )
    captions = captions_of(entry["caption"])
    try:
        audio_path = resolve_inside(root, entry["audio_path"])
    except OutsideFolder as error:
        raise BadEntry(str(error), "outside") from error
    except TypeError as error:
        raise BadEntry(str(error), "bad entry") from error
    return CaptionedAudio(audio_id, audio_path, captions)


def captions_of(caption) -> tuple[str, ...]:
    """The usable captions of an entry's `caption` (a string or a list of strings).

    Empty strings in a list are dropped; a caption that is not a string, longer than
    MAX_CAPTION_CHARS, or an entry left with none raises BadEntry.
    """
    captions = caption if isinstance(caption, list) else [caption]
    kept = []
    for text in captions:
        if not isinstance(text, str):
            raise BadEntry(
                f"caption is not a string but {type(text).__name__} {text!r:.40}", "bad caption"
            )
        if len(text) > MAX_CAPTION_CHARS:
            raise BadEntry(
                f"caption is {len(text)} characters long, over the {MAX_CAPTION_CHARS} allowed",
                "bad caption",
            )
        if text.strip():
            kept.append(text.strip())
    if not kept:
        raise BadEntry("empty caption (nothing but whitespace)", "bad caption")
    return tuple(kept)


def _check_duplicate(old: CaptionedAudio | None, new: CaptionedAudio, first: int | None) -> None:
    # The first entry wins: a later one with another file would tie its captions to the
    # wrong audio if merged, and stopping the run for it would let one line kill a run.
    if old is not None and old.audio_path != new.audio_path:
        raise BadEntry(
            f"audio_id {new.audio_id!r} already names {old.audio_path} (entry {first}); "
            f"this entry's {new.audio_path} is skipped",
            "duplicate id",
        )
