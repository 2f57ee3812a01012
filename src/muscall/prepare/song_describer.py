"""The Song Describer Dataset: `song_describer.csv` + `audio/` -> two evaluation splits.

`test` holds the validated captions (`is_valid_subset`, the subset TTMR++ and the dataset
paper evaluate); `full` holds every caption. Each track appears once, with all its captions.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from omegaconf import DictConfig

from muscall.errors import DatasetError
from muscall.prepare.convert import AudioJob, Decoder
from muscall.prepare.paths import inside
from muscall.prepare.tables import read_csv_rows
from muscall.prepare.writers import write_split

log = logging.getLogger(__name__)

CSV_NAME = "song_describer.csv"
COLUMNS = ("caption_id", "track_id", "caption", "is_valid_subset", "path")
TRACK_ID = re.compile(r"[A-Za-z0-9_-]+")
# The split written from the validated captions, and the one written from all of them.
SPLITS = {"test": True, "full": False}


@dataclass
class Track:
    """One track: the audio path the CSV gives, and its captions with their validity."""

    track_id: str
    path: str
    where: str  # the CSV row that gave `path`, for error messages
    captions: list[tuple[str, bool]] = field(default_factory=list)


def prepare(source: Path, options: DictConfig, decoder: Decoder) -> dict:
    """Decode every track to FLAC and write `<name>_test.json` and `<name>_full.json`."""
    target = decoder.target
    tracks = read_csv(source / CSV_NAME)
    files = {t.track_id: audio_file(source, t.path, t.where) for t in tracks.values()}
    jobs = [AudioJob(tid, path, f"audio/{tid}.flac") for tid, path in files.items() if path]
    report = decoder(jobs)
    written = [track for track in tracks.values() if track.track_id in report.ok]
    splits, captions = {}, {}
    for split, valid_only in SPLITS.items():
        entries = split_entries(written, valid_only)
        write_split(target, options.name, split, entries)
        splits[split] = len(entries)
        captions[split] = sum(len(_as_list(e["caption"])) for e in entries)
    return {
        "splits": splits,
        "captions": captions,
        "listed": {
            "tracks": len(tracks),
            "captions": sum(len(t.captions) for t in tracks.values()),
        },
        "converted": report.converted,
        "reused": report.reused,
        "failed": report.failed,
        "missing": [tid for tid, path in files.items() if path is None],
    }


def read_csv(path: Path) -> dict[str, Track]:
    """The CSV's captions grouped by track, in order of first appearance."""
    if not path.is_file():
        raise DatasetError(
            f"{path}: not found; source= must be the folder holding {CSV_NAME} and audio/ "
            "(from Zenodo record 10072001)"
        )
    rows = read_csv_rows(path, COLUMNS)
    tracks: dict[str, Track] = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        where = f"{CSV_NAME} row {number}"
        track_id = (row["track_id"] or "").strip()
        # The id becomes a file name: letters, digits, '-' and '_' only.
        if not TRACK_ID.fullmatch(track_id):
            raise DatasetError(f"{where}: track_id {track_id!r} is not an id")
        track = tracks.setdefault(track_id, Track(track_id, (row["path"] or "").strip(), where))
        caption = (row["caption"] or "").strip()
        if caption:
            # Blank means the caption was never validated: it is not in the valid subset.
            track.captions.append((caption, (row["is_valid_subset"] or "").strip() == "True"))
    return tracks


def audio_file(source: Path, path: str, where: str) -> Path | None:
    """The track's mp3 under `source/audio`, or None when it is not there.

    The CSV gives MTG-Jamendo's path, `00/1051000.mp3`, while the download holds the
    excerpt `audio/00/1051000.2min.mp3`; an archive unpacked into `audio/` adds one more
    `audio/`. Each form is tried, and each stays inside `source`.
    """
    relative = PurePosixPath(path.removeprefix("audio/"))
    names = [relative]
    if ".2min" not in relative.suffixes:
        names.append(relative.with_name(f"{relative.stem}.2min{relative.suffix}"))
    for folder in ("audio", "audio/audio"):
        for name in names:
            # `folder / name` keeps an absolute CSV path absolute, so `inside` refuses it.
            candidate = inside(source, PurePosixPath(folder) / name, where)
            if candidate.is_file():
                return candidate
    return None


def split_entries(tracks: list[Track], valid_only: bool) -> list[dict]:
    """One entry per track that has a caption here, carrying all of them."""
    entries = []
    for track in tracks:
        texts = [text for text, valid in track.captions if valid or not valid_only]
        if texts:
            entries.append(
                {
                    "audio_id": track.track_id,
                    "caption": texts[0] if len(texts) == 1 else texts,
                    "audio_path": f"audio/{track.track_id}.flac",
                }
            )
    return entries


def _as_list(caption: str | list[str]) -> list[str]:
    return caption if isinstance(caption, list) else [caption]
