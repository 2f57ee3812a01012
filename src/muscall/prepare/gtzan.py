"""GTZAN as downloaded -> 16 kHz FLAC and zero-shot genre sets on the fault-filtered splits.

The splits are Kereliuk et al.'s fault-filtered lists (train/val/test = 443/197/290 tracks),
which leave out GTZAN's repeated, distorted and mislabelled excerpts; read from torchaudio so
the project never carries its own copy.
"""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig
from torchaudio.datasets import gtzan

from muscall.errors import MuscallError
from muscall.prepare.convert import AudioJob, Decoder
from muscall.prepare.writers import write_labelled_set

log = logging.getLogger(__name__)

# GTZAN's canonical class order; labels are written as the text encoder reads them best.
GENRES = tuple(gtzan.gtzan_genres)
LABEL_TEXT = {"hiphop": "hip hop"}
LABELS = tuple(LABEL_TEXT.get(genre, genre) for genre in GENRES)
TEMPLATES = ("a {} song", "{} music", "a {} track", "this is {} music")

# Where the genre folders are: Kaggle's archive, its `Data/` folder, the original tarball,
# or the genres folder itself given as source.
LAYOUTS = ("genres_original", "Data/genres_original", "genres", ".")
# Kaggle ships .wav, the original tarball .au; a folder holding both is read as .wav.
SUFFIXES = (".wav", ".au")


def prepare(source: Path, options: DictConfig, decoder: Decoder) -> dict:
    """Decode the listed tracks and write `zeroshot/<split>.json` classification sets."""
    target = decoder.target
    genres_dir = find_genres_dir(source)
    splits = split_lists(options.split)
    found = {track: find_track(genres_dir, track) for names in splits.values() for track in names}
    missing = sorted(track for track, path in found.items() if path is None)
    jobs = [
        AudioJob(track, path, audio_dest(source, path)) for track, path in found.items() if path
    ]
    if not jobs:
        raise MuscallError(f"source={source}: none of GTZAN's listed tracks found in {genres_dir}")
    if missing:
        log.warning("%d listed GTZAN track(s) not found in %s", len(missing), genres_dir)
    done = decoder(jobs)
    dests = {job.item_id: job.dest for job in jobs}
    counts = {}
    for split, names in splits.items():
        items = [
            {"audio_id": track, "audio_path": dests[track], "label": label_of(track)}
            for track in names
            if track in done.ok
        ]
        write_labelled_set(target, split, "classification", LABELS, items, TEMPLATES)
        counts[split] = len(items)
    return {
        "split": options.split,
        "splits": counts,
        "converted": sorted(done.converted),
        "reused": sorted(done.reused),
        "failed": done.failed,
        "missing": missing,
    }


def split_lists(protocol: str) -> dict[str, list[str]]:
    """Track names per split: `filtered` (the fault-filtered protocol) or `full` (all as test)."""
    if protocol == "filtered":
        return {
            "train": list(gtzan.filtered_train),
            "val": list(gtzan.filtered_valid),
            "test": list(gtzan.filtered_test),
        }
    if protocol == "full":
        return {"test": [f"{genre}.{index:05d}" for genre in GENRES for index in range(100)]}
    raise MuscallError(
        f"dataset.split={protocol!r}: choose filtered (the fault-filtered train/val/test "
        "splits, 443/197/290 tracks) or full (all 1000 tracks as test)"
    )


def find_genres_dir(source: Path) -> Path:
    """The folder that holds `<genre>/` subfolders, in any of the layouts users download."""
    for layout in LAYOUTS:
        folder = source / layout
        if any((folder / genre).is_dir() for genre in GENRES):
            return folder
    raise MuscallError(
        f"source={source}: no GTZAN genre folders found; expected "
        "genres_original/<genre>/<genre>.000NN.wav (Kaggle) or genres/<genre>/<genre>.000NN.au"
    )


def find_track(genres_dir: Path, track: str) -> Path | None:
    """`<genre>/<track>.wav` or `.au`; None when neither is there."""
    for suffix in SUFFIXES:
        path = genres_dir / genre_of(track) / f"{track}{suffix}"
        if path.is_file():
            return path
    return None


def genre_of(track: str) -> str:
    return track.split(".")[0]


def label_of(track: str) -> str:
    genre = genre_of(track)
    return LABEL_TEXT.get(genre, genre)


def audio_dest(source: Path, path: Path) -> str:
    """`audio/<path relative to source>.flac`: the prepared tree mirrors the download."""
    return (Path("audio") / path.relative_to(source)).with_suffix(".flac").as_posix()
