"""Labelled audio sets for zero-shot evaluation: JSON or CSV files of audio paths and labels.

JSON, single-label:  {"type": "classification", "labels": [...], "items": [{"audio_path", "label"}]}
JSON, multi-label:   {"type": "tagging", "labels": [...], "items": [{"audio_path", "labels": [...]}]}
A bare JSON list of items works too (type and label list inferred). Optional "templates".
CSV/TSV: a header with `audio_path` and `label` (single) or `labels` (multi, `;`-separated).
Audio paths are relative to the set file's folder.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

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


def read_labelled_set(path: str | Path, name: str | None = None) -> LabelledSet:
    """Read a labelled set file (JSON or CSV/TSV), validating every item."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: labelled set file not found")
    if path.suffix.lower() == ".json":
        header, items = _read_json(path)
    elif path.suffix.lower() in (".csv", ".tsv"):
        header, items = {}, _read_csv(path)
    else:
        raise DatasetError(f"{path}: labelled sets are .json, .csv or .tsv files")
    return _build(path, name or path.stem, header, items)


def _read_json(path: Path) -> tuple[dict, list]:
    data = read_json(path, "labelled set file")
    if isinstance(data, list):
        return {}, data
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return data, data["items"]
    raise DatasetError(f"{path}: expected a list of items or an object with an 'items' list")


def _read_csv(path: Path) -> list[dict]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter=delimiter))
    items = []
    for row in rows:
        item = {"audio_path": row.get("audio_path")}
        if row.get("labels") is not None:
            item["labels"] = [x.strip() for x in row["labels"].split(";") if x.strip()]
        elif row.get("label") is not None:
            item["label"] = row["label"].strip()
        items.append(item)
    return items


def _item_labels(item) -> list[str] | None:
    if not isinstance(item, dict) or not item.get("audio_path"):
        return None
    if isinstance(item.get("label"), str) and item["label"].strip():
        return [item["label"].strip()]
    if isinstance(item.get("labels"), list):
        return [str(x).strip() for x in item["labels"] if str(x).strip()]
    return None


def _build(path: Path, name: str, header: dict, items: list) -> LabelledSet:
    set_type = header.get("type") or _infer_type(items)
    if set_type not in SET_TYPES:
        raise DatasetError(f"{path}: 'type' must be one of {SET_TYPES}, got {set_type!r}")
    parsed = []
    for index, item in enumerate(items):
        labels = _item_labels(item)
        if labels is None:
            log.warning("%s: item %d skipped: needs audio_path and label(s)", path, index)
            continue
        parsed.append((path.parent / item["audio_path"], labels))
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
        audio_paths=tuple(p.resolve() for p, _ in parsed),
        targets=tuple(tuple(index_of[lab] for lab in labs) for _, labs in parsed),
        templates=tuple(templates) if templates else None,
    )


def _infer_type(items: list) -> str:
    multi = any(isinstance(i, dict) and "labels" in i for i in items)
    return "tagging" if multi else "classification"
