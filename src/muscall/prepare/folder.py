"""A folder of audio with a CSV or JSONL of `path, caption` rows -> caption split files.

Rows are numbered as lines of the captions file (a CSV header is row 1), so a reported row
is found in an editor or a spreadsheet. A bad row is reported and skipped; only a mistake
that would spoil every row (no header, an unknown split name) stops the run.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig

from muscall.audio.formats import is_audio_file
from muscall.data.captions import SPLITS
from muscall.errors import DatasetError, MuscallError
from muscall.prepare.convert import AudioJob, Decoder
from muscall.prepare.paths import inside
from muscall.prepare.writers import write_split

log = logging.getLogger(__name__)

SPLIT_NAMES = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}
CAPTION_SUFFIXES = (".csv", ".jsonl")


@dataclass
class Track:
    """One audio file and every caption its rows give it; `row` is its first row."""

    rel: str
    path: Path
    row: int
    captions: list[str] = field(default_factory=list)
    split: str | None = None

    @property
    def audio_id(self) -> str:
        return Path(self.rel).with_suffix("").as_posix()

    @property
    def dest(self) -> str:
        return f"audio/{self.audio_id}.flac"


class BadRow(Exception):
    """A row that is skipped and reported; the run goes on."""


def prepare(source: Path, options: DictConfig, decoder: Decoder) -> dict:
    """Decode every captioned file and write `<name>_{train,val,test}.json`."""
    target = decoder.target
    name = check_name(options.name)
    check_fractions(options.val_fraction, options.test_fraction)
    captions_file = find_captions_file(source, options.captions)
    tracks, bad_rows = read_tracks(source, captions_file)
    for track in tracks:
        track.split = track.split or hashed_split(
            track.rel, options.val_fraction, options.test_fraction
        )
    present = [track for track in tracks if track.path.is_file()]
    jobs = [AudioJob(track.audio_id, track.path, track.dest) for track in present]
    done = decoder(jobs)
    counts, captions = write_splits(target, name, [t for t in present if t.audio_id in done.ok])
    return {
        "captions_file": str(captions_file),
        "splits": counts,
        "captions": captions,
        "converted": sorted(done.converted),
        "reused": sorted(done.reused),
        "failed": done.failed,
        "missing": [track.audio_id for track in tracks if not track.path.is_file()],
        "bad_rows": bad_rows,
        "uncaptioned": count_uncaptioned(source, target, {track.path for track in tracks}),
    }


def write_splits(target: Path, name: str, tracks: list[Track]) -> tuple[dict, dict]:
    """One entry per caption (MusCALL's layout); returns tracks and captions per split."""
    counts, captions = {}, {}
    for split in SPLITS:
        chosen = [track for track in tracks if track.split == split]
        entries = [
            {"audio_id": t.audio_id, "caption": c, "audio_path": t.dest}
            for t in chosen
            for c in t.captions
        ]
        path = write_split(target, name, split, entries)
        if not chosen:
            log.warning("%s is empty: no usable track fell in split %s", path, split)
        counts[split], captions[split] = len(chosen), len(entries)
    return counts, captions


def check_name(name: str) -> str:
    """The split files' prefix: a plain file name, so they land in the target folder."""
    if not name or Path(name).name != name or name in (".", ".."):
        raise MuscallError(f"dataset.name={name!r}: give a plain name such as mine (no '/')")
    return name


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise MuscallError(
            f"dataset.val_fraction={val_fraction}, dataset.test_fraction={test_fraction}: "
            "each must be in [0, 1) and their sum below 1, leaving tracks to train on"
        )


def find_captions_file(source: Path, option: str | None) -> Path:
    """`dataset.captions` if given, else the one .csv or .jsonl at the top of `source`."""
    if option:
        path = Path(option).expanduser()
        path = path if path.is_absolute() else source / path
        if not path.is_file():
            raise MuscallError(f"dataset.captions={option}: file not found (relative to {source})")
        if path.suffix.lower() not in CAPTION_SUFFIXES:
            raise MuscallError(f"dataset.captions={option}: expected a .csv or .jsonl file")
        return path
    found = sorted(
        p for p in source.iterdir() if p.suffix.lower() in CAPTION_SUFFIXES and p.is_file()
    )
    if len(found) == 1:
        return found[0]
    if not found:
        raise MuscallError(
            f"{source}: no .csv or .jsonl captions file at the top of the folder; add one "
            "with `path` and `caption` columns, or set dataset.captions=FILE"
        )
    names = ", ".join(p.name for p in found)
    raise MuscallError(
        f"{source}: several captions files ({names}); choose one: dataset.captions=FILE"
    )


def read_tracks(source: Path, file: Path) -> tuple[list[Track], list[dict]]:
    """The tracks of a captions file, in first-row order, and the rows skipped with why."""
    tracks: dict[str, Track] = {}
    by_id: dict[str, Track] = {}
    bad_rows = []
    for number, row in read_rows(file):
        where = f"{file.name} row {number}"
        try:
            track = parse_row(source, where, number, row)
            old = tracks.get(track.rel) or by_id.get(track.audio_id)
            if old is not None:
                merge(old, track, where)
                continue
        except BadRow as error:
            log.warning("%s skipped: %s", where, error)
            bad_rows.append({"file": file.name, "row": number, "error": str(error)})
            continue
        tracks[track.rel] = by_id[track.audio_id] = track
    if not tracks:
        raise DatasetError(f"{file}: no usable rows ({len(bad_rows)} skipped, see the warnings)")
    return list(tracks.values()), bad_rows


def read_rows(file: Path) -> Iterator[tuple[int, dict | str]]:
    """(row number, the row as a dict or why it could not be read)."""
    # utf-8-sig: spreadsheets often save a byte-order mark that would rename the first column.
    with file.open(newline="", encoding="utf-8-sig") as handle:
        if file.suffix.lower() == ".csv":
            yield from _csv_rows(file, handle)
        else:
            yield from _jsonl_rows(handle)


def _csv_rows(file: Path, handle) -> Iterator[tuple[int, dict | str]]:
    reader = csv.DictReader(handle)
    header = [name.strip() for name in reader.fieldnames or []]
    if "path" not in header or "caption" not in header:
        raise DatasetError(
            f"{file} row 1: the header needs `path` and `caption` columns, found {header}"
        )
    reader.fieldnames = header
    for row in reader:
        yield reader.line_num, row


def _jsonl_rows(handle) -> Iterator[tuple[int, dict | str]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            yield number, f"not valid JSON ({error.msg})"
            continue
        yield number, row if isinstance(row, dict) else "not a JSON object"


def parse_row(source: Path, where: str, number: int, row: dict | str) -> Track:
    """One row as a track; BadRow says why a row is unusable."""
    if isinstance(row, str):
        raise BadRow(row)
    rel = row.get("path")
    if not isinstance(rel, str) or not rel.strip():
        raise BadRow("no path")
    captions = captions_of(row.get("caption"))
    if not captions:
        raise BadRow("empty caption")
    try:
        path = inside(source, rel.strip(), where)
    except DatasetError as error:
        raise BadRow(str(error).removeprefix(f"{where}: ")) from None
    rel = path.relative_to(source.resolve()).as_posix()
    return Track(rel, path, number, captions, split_of(row, where))


def captions_of(value) -> list[str]:
    """A caption, or in JSONL a list of them, stripped; blanks dropped."""
    values = value if isinstance(value, list) else [value]
    return [v.strip() for v in values if isinstance(v, str) and v.strip()]


def split_of(row: dict, where: str) -> str | None:
    """The row's split, None when it gives none; an unknown name stops the run."""
    value = row.get("split")
    if value is None or not str(value).strip():
        return None
    split = SPLIT_NAMES.get(str(value).strip().lower())
    if split is None:
        raise DatasetError(f"{where}: split {value!r} unknown; use train, val or test")
    return split


def merge(old: Track, new: Track, where: str) -> None:
    """Another row of a track already seen: its captions join the track's."""
    if new.rel != old.rel:
        raise BadRow(f"{new.rel} would overwrite {old.rel} (row {old.row}) as {old.dest}")
    if new.split and old.split and new.split != old.split:
        raise DatasetError(
            f"{where}: {new.rel} is in {new.split} here, in {old.split} in row {old.row}"
        )
    old.split = old.split or new.split
    old.captions += [c for c in new.captions if c not in old.captions]


def hashed_split(key: str, val_fraction: float, test_fraction: float) -> str:
    """A split from a hash of `key`: the same on every machine and run, unlike hash()."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    if position < test_fraction:
        return "test"
    if position < test_fraction + val_fraction:
        return "val"
    return "train"


def count_uncaptioned(source: Path, target: Path, listed: set[Path]) -> int:
    """Audio files in the folder that no row names: often a forgotten row, worth a number."""
    count = 0
    for path in source.rglob("*"):
        if not is_audio_file(path) or target in path.parents:
            continue
        count += path.is_file() and path.resolve() not in listed
    return count
