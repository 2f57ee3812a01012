"""Labelled audio sets for zero-shot evaluation: JSON or CSV files of audio paths and labels.

JSON, single-label:  {"type": "classification", "labels": [...], "items": [{"audio_path", "label"}]}
JSON, multi-label:   {"type": "tagging", "labels": [...], "items": [{"audio_path", "labels": [...]}]}
A bare JSON list of items works too (type and label list inferred). Optional "templates".
CSV/TSV: a header with `audio_path` and `label` (single) or `labels` (multi, `;`-separated).
Audio paths are relative to the set file's folder, and must stay inside the set's dataset
folder: the folder above the set file's own (sets live in `<dataset>/zeroshot/`, where
`task=prepare` and the built-in dataset write them, and point at `../audio/...`), or the
`root` given. An item whose path is absolute, or leads out of that folder by `..` or by a
symlink, is skipped and never opened; so is an item without a path or a label.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

from muscall.data.bad_items import BadItemLog
from muscall.data.containment import OutsideFolder, resolve_inside
from muscall.data.json_io import read_json
from muscall.errors import DatasetError

log = logging.getLogger(__name__)

SET_TYPES = ("classification", "tagging")


@dataclass(frozen=True)
class LabelledSet:
    """Audio files with class indices into `labels`; `type` says single- or multi-label."""

    name: str
    type: str
    labels: tuple[str, ...]
    audio_paths: tuple[Path, ...]
    targets: tuple[tuple[int, ...], ...]
    templates: tuple[str, ...] | None = None


def read_labelled_set(
    path: str | Path,
    name: str | None = None,
    root: str | Path | None = None,
    bad_items: BadItemLog | None = None,
) -> LabelledSet:
    """Read a labelled set file (JSON or CSV/TSV); bad items are reported to `bad_items`.

    `root` is the folder every audio path must stay in; by default the set's dataset folder,
    the parent of the set file's folder.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: labelled set file not found")
    if path.suffix.lower() == ".json":
        header, items = _read_json(path)
    elif path.suffix.lower() in (".csv", ".tsv"):
        header, items = {}, _read_csv(path)
    else:
        raise DatasetError(f"{path}: labelled sets are .json, .csv or .tsv files")
    root = Path(root) if root is not None else path.absolute().parent.parent
    bad_items = bad_items if bad_items is not None else BadItemLog()
    parsed = _parse_items(path, root, items, bad_items)
    return _build(path, name or path.stem, header.get("type") or _infer_type(items), header, parsed)


def _read_json(path: Path) -> tuple[dict, list]:
    data = read_json(path, "labelled set file")
    if isinstance(data, list):
        return {}, data
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return data, data["items"]
    raise DatasetError(f"{path}: expected a list of items or an object with an 'items' list")


def _read_csv(path: Path) -> list[dict]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle, delimiter=delimiter, strict=True)
            fields = reader.fieldnames or []
            if "audio_path" not in fields or not {"label", "labels"} & set(fields):
                raise DatasetError(
                    f"{path}: the header must name audio_path and label (or labels); "
                    f"found {', '.join(map(repr, fields)) or 'nothing'}"
                )
            return [_csv_item(row, len(fields)) for row in reader]
    except csv.Error as error:
        raise DatasetError(f"{path}: malformed CSV at line {reader.line_num}: {error}") from error
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not UTF-8 text (byte {error.start})") from error
    except PermissionError as error:
        raise DatasetError(
            f"{path}: labelled set file may not be read (permission denied)"
        ) from error


def _csv_item(row: dict, columns: int) -> dict:
    if row.get(None):  # DictReader files a row's surplus fields under None
        return {"problem": f"{columns + len(row[None])} fields, the header names {columns}"}
    item = {"audio_path": row.get("audio_path")}
    if row.get("labels") is not None:
        item["labels"] = [x.strip() for x in row["labels"].split(";") if x.strip()]
    elif row.get("label") is not None:
        item["label"] = row["label"].strip()
    return item


def _item_problem(item) -> str | None:
    if not isinstance(item, dict):
        return f"not a JSON object but {type(item).__name__}"
    if item.get("problem"):
        return item["problem"]
    if not isinstance(item.get("audio_path"), str) or not item["audio_path"].strip():
        return "needs an audio_path (a non-empty string)"
    if _item_labels(item) is None:
        return "needs a label (a non-empty string) or labels (a list)"
    return None


def _item_labels(item: dict) -> list[str] | None:
    if isinstance(item.get("label"), str) and item["label"].strip():
        return [item["label"].strip()]
    if isinstance(item.get("labels"), list):
        return [str(x).strip() for x in item["labels"] if str(x).strip()]
    return None


def _parse_items(
    path: Path, root: Path, items: list, bad_items: BadItemLog
) -> list[tuple[Path, list[str]]]:
    """(audio path, labels) of every usable item; the others reported and skipped."""
    parsed = []
    for index, item in enumerate(items):
        audio_id = item.get("audio_id") if isinstance(item, dict) else None
        audio_id = audio_id if isinstance(audio_id, str) else None
        problem, kind = _item_problem(item), "bad entry"
        if problem is None:
            try:
                parsed.append(
                    (resolve_inside(root, item["audio_path"], path.parent), _item_labels(item))
                )
                continue
            except OutsideFolder as error:
                problem, kind = str(error), "outside"
        bad_items.report(path, problem, kind=kind, entry=index, audio_id=audio_id)
    return parsed


def _build(path: Path, name: str, set_type: str, header: dict, parsed: list) -> LabelledSet:
    if set_type not in SET_TYPES:
        raise DatasetError(f"{path}: 'type' must be one of {SET_TYPES}, got {set_type!r}")
    if not parsed:
        raise DatasetError(f"{path}: no usable items")
    vocab = list(header.get("labels") or sorted({lab for _, labs in parsed for lab in labs}))
    index_of = {label: i for i, label in enumerate(vocab)}
    unknown = sorted({lab for _, labs in parsed for lab in labs if lab not in index_of})
    if unknown:
        raise DatasetError(f"{path}: labels not in the 'labels' list: {', '.join(unknown[:10])}")
    if set_type == "classification" and any(len(labs) != 1 for _, labs in parsed):
        raise DatasetError(f"{path}: a classification set needs exactly one label per item")
    templates = header.get("templates")
    return LabelledSet(
        name=name,
        type=set_type,
        labels=tuple(vocab),
        audio_paths=tuple(p for p, _ in parsed),
        targets=tuple(tuple(index_of[lab] for lab in labs) for _, labs in parsed),
        templates=tuple(templates) if templates else None,
    )


def _infer_type(items: list) -> str:
    multi = any(isinstance(i, dict) and "labels" in i for i in items)
    return "tagging" if multi else "classification"
