"""MagnaTagATune's own files: annotations_final.csv and Won et al. 2020's split arrays."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from muscall.errors import DatasetError
from muscall.prepare.paths import inside

ANNOTATIONS = "annotations_final.csv"
# Won et al.'s file for each of our split names.
WON_FILES = {"train": "train.npy", "val": "valid.npy", "test": "test.npy"}
WON_TAGS = "tags.npy"


@dataclass(frozen=True)
class Clip:
    """One annotated clip: `path` as the annotation file spells it, `file` where it lies."""

    clip_id: str
    path: str
    file: Path
    tags: frozenset[str]

    @property
    def folder(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def dest(self) -> str:
        return f"audio/{PurePosixPath(self.path).with_suffix('.flac')}"


def read_annotations(source: Path) -> tuple[list[str], list[Clip]]:
    """The tag columns (file order) and every clip of `annotations_final.csv`."""
    path = source / ANNOTATIONS
    if not path.is_file():
        raise DatasetError(
            f"{path}: not found; source= must be the MagnaTagATune folder that holds "
            f"{ANNOTATIONS} and the mp3 folders 0 ... f"
        )
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle, delimiter="\t", quotechar='"')
        header = next(rows, [])
        if len(header) < 3 or header[0] != "clip_id" or header[-1] != "mp3_path":
            raise DatasetError(
                f"{path}: expected a tab-separated header clip_id, <tags>..., mp3_path; "
                f"got {header[:2]} ... {header[-1:]}"
            )
        tag_names = header[1:-1]
        clips = [_clip(source, row, line, tag_names) for line, row in enumerate(rows, 2) if row]
    ids = Counter(clip.clip_id for clip in clips)
    repeated = [clip_id for clip_id, n in ids.items() if n > 1]
    if repeated:
        raise DatasetError(f"{path}: clip_id repeated: {', '.join(repeated[:10])}")
    return tag_names, clips


def _clip(source: Path, row: list[str], line: int, tag_names: list[str]) -> Clip:
    where = f"{ANNOTATIONS} line {line}"
    if len(row) != len(tag_names) + 2 or not row[-1]:
        raise DatasetError(
            f"{source / ANNOTATIONS} line {line}: expected {len(tag_names) + 2} tab-separated "
            f"fields ending in an mp3 path, got {len(row)}"
        )
    flags = row[1:-1]
    if not set(flags) <= {"0", "1"}:
        raise DatasetError(f"{source / ANNOTATIONS} line {line}: tag columns must be 0 or 1")
    tags = frozenset(name for name, flag in zip(tag_names, flags, strict=True) if flag == "1")
    path = PurePosixPath(row[-1]).as_posix()
    return Clip(row[0], path, inside(source, path, where), tags)


def top_tags(tag_names: list[str], clips: list[Clip], num_tags: int) -> list[str]:
    """The `num_tags` most frequent tags over every clip, most frequent first."""
    if not 0 < num_tags <= len(tag_names):
        raise DatasetError(f"dataset.num_tags={num_tags}: must lie in 1 ... {len(tag_names)}")
    counts = Counter(tag for clip in clips for tag in clip.tags)
    # A stable sort: ties keep the file's column order, so reruns choose the same tags.
    return sorted(tag_names, key=lambda tag: -counts[tag])[:num_tags]


def read_won_split(
    split_dir: Path, source: Path, allow_pickle: bool
) -> tuple[dict[str, list[str]], list[str] | None]:
    """{split: mp3 paths} from train/valid/test.npy, and tags.npy's list when it is there."""
    if not split_dir.is_dir():
        raise DatasetError(f"dataset.split_dir={split_dir}: folder not found")
    listed = {}
    for split, name in WON_FILES.items():
        listed[split] = [
            _won_path(source, entry, f"{name} row {row}")
            for row, entry in enumerate(_load_strings(split_dir / name, allow_pickle), 1)
        ]
    tags_file = split_dir / WON_TAGS
    tags = _load_strings(tags_file, allow_pickle) if tags_file.is_file() else None
    return listed, tags


def _won_path(source: Path, entry: str, where: str) -> str:
    # Entries read "index<TAB>path"; the index points into Won's own binary.npy, so the
    # path alone identifies the clip.
    _, tab, path = entry.partition("\t")
    if not tab or not path:
        raise DatasetError(f"{where}: expected 'index<TAB>mp3 path', got {entry!r}")
    path = PurePosixPath(path).as_posix()
    inside(source, path, where)
    return path


def _load_strings(path: Path, allow_pickle: bool) -> list[str]:
    """A .npy file's strings; pickled (object) arrays only with `dataset.allow_pickle=true`."""
    if not path.is_file():
        raise DatasetError(
            f"{path}: not found; dataset.split_dir needs {', '.join(WON_FILES.values())} "
            "(Won et al. 2020, minzwon/sota-music-tagging-models split/mtat)"
        )
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as error:
        if "allow_pickle" not in str(error):
            raise DatasetError(f"{path}: not a readable .npy array ({error})") from error
        array = _load_pickled(path, allow_pickle)
    except OSError as error:
        raise DatasetError(f"{path}: not a readable .npy array ({error})") from error
    if array.ndim != 1:
        raise DatasetError(f"{path}: expected a 1-D array of strings, got shape {array.shape}")
    return [item.decode() if isinstance(item, bytes) else str(item) for item in array]


def _load_pickled(path: Path, allow_pickle: bool) -> np.ndarray:
    if not allow_pickle:
        raise DatasetError(
            f"{path}: holds pickled Python objects, and unpickling a file runs whatever code "
            "its author put in it. If you trust where it came from, rerun with "
            "dataset.allow_pickle=true (or re-save it as a plain string array)"
        )
    try:
        return np.load(path, allow_pickle=True)
    except Exception as error:  # noqa: BLE001 - unpickling fails in many ways
        raise DatasetError(f"{path}: cannot be read as a .npy array ({error})") from error
