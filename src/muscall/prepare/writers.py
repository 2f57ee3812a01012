"""Writing a prepared dataset: split files, labelled sets and the report, all atomically."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

REPORT_FILE = "prepare_report.json"


def write_json(path: Path, data) -> Path:
    """Write JSON through a temporary file, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def write_split(target: Path, name: str, split: str, entries: Sequence[Mapping]) -> Path:
    """`<target>/<name>_<split>.json`: [{audio_id, caption, audio_path}], paths relative."""
    return write_json(target / f"{name}_{split}.json", [dict(e) for e in entries])


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
