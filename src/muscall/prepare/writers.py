"""Writing a prepared dataset: split files, labelled sets and the report, all atomically."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from muscall.data.captions import split_path
from muscall.data.json_io import write_json

REPORT_FILE = "prepare_report.json"


def write_split(target: Path, name: str, split: str, entries: Sequence[Mapping]) -> Path:
    """A split file: [{audio_id, caption, audio_path}], paths relative to `target`."""
    return write_json(split_path(target, name, split), [dict(e) for e in entries])


def write_labelled_set(
    target: Path,
    split: str,
    set_type: str,
    labels: Sequence[str],
    items: Sequence[Mapping],
    templates: Sequence[str] | None = None,
) -> Path:
    """`<target>/zeroshot/<split>.json`; item `audio_path`s are given relative to `target`."""
    data = {
        "type": set_type,
        "labels": list(labels),
        "items": [{**item, "audio_path": f"../{item['audio_path']}"} for item in items],
    }
    if templates:
        data["templates"] = list(templates)
    return write_json(target / "zeroshot" / f"{split}.json", data)


def write_report(target: Path, report: Mapping) -> Path:
    return write_json(target / REPORT_FILE, dict(report))
