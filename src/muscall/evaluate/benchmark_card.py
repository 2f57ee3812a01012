"""A benchmark's protocol card: what was evaluated, against what the protocol defines.

Counts the protocol defines come from the protocol file (each with its source) or, where
that has none, from the protocol's own item list; items the protocol lists but the
evaluation did not score are named one by one, so "not comparable: N of M" can be checked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from muscall.evaluate.protocols import Protocol, listed_items

PREPARE_REPORT = "prepare_report.json"
COMPARABLE = "comparable"


@dataclass(frozen=True)
class Setting:
    """How the audio and text of a benchmark were fed to the network."""

    sample_rate: int
    crop: str  # "windows" (whole track) or "centre"
    window_seconds: float
    hop_seconds: float | None
    templates: list[str] | None  # zero-shot prompt templates; None for retrieval


def read_prepare_report(dataset_root: Path) -> dict:
    """`<dataset>/prepare_report.json` as task=prepare wrote it; {} when there is none."""
    path = dataset_root / PREPARE_REPORT
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def protocol_card(
    protocol: Protocol,
    split_file: Path,
    dataset_root: Path,
    split_ids: Sequence[str],
    evaluated_ids: Sequence[str],
    counts: dict[str, int],
    setting: Setting,
) -> dict:
    """The card's fields (docs/benchmarks.md describes each)."""
    report = read_prepare_report(dataset_root)
    listed = listed_items(protocol, report)
    expected = dict(protocol.expected)
    if listed is not None:
        expected = {key: expected.get(key) or listed[1].get(key) for key in expected}
    evaluated = set(evaluated_ids)
    split_protocol = _split_protocol(split_file) or report.get("split_protocol")
    card = {
        "title": protocol.title,
        "protocol": protocol.protocol,
        "split_file": str(split_file),
        "split_protocol": split_protocol,
        "prepare_report": str(dataset_root / PREPARE_REPORT) if report else None,
        "expected": expected,
        "expected_source": protocol.expected_source,
        "evaluated": dict(counts),
        "unreadable_at_eval": sorted(set(split_ids) - evaluated),
        "sample_rate": setting.sample_rate,
        "crop": setting.crop,
        "window_seconds": setting.window_seconds,
        "hop_seconds": setting.hop_seconds,
        "templates": setting.templates,
    }
    if listed is not None:
        card["missing"] = sorted(set(listed[0]) - evaluated)
        card["missing_from"] = "the protocol's list"
    else:
        card["missing"] = sorted(set(report.get("missing", [])) | set(report.get("failed", {})))
        card["missing_from"] = f"{PREPARE_REPORT} (every split)" if report else "unknown"
    card["status"] = comparability(protocol, expected, counts, split_protocol)
    return card


def comparability(
    protocol: Protocol, expected: dict, counts: dict[str, int], split_protocol: str | None
) -> str:
    """`comparable`, or what makes the row not comparable with the literature's."""
    if protocol.split_protocol and split_protocol != protocol.split_protocol:
        return f"not comparable: split {split_protocol or 'unknown'}, not {protocol.split_protocol}"
    for key, count in expected.items():
        if count is not None and counts.get(key, 0) < count:
            return f"not comparable: {counts.get(key, 0)} of {count} {key}"
    if all(count is None for count in expected.values()):
        return "protocol count not verified"
    return COMPARABLE


def _split_protocol(split_file: Path) -> str | None:
    """The `split_protocol` a labelled set file records (task=prepare dataset=mtt writes it)."""
    if split_file.suffix != ".json":
        return None
    try:
        data = json.loads(split_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("split_protocol") if isinstance(data, dict) else None


def model_sha256(path: Path) -> str:
    """sha256 of a checkpoint file; of a model folder, over its files' names and bytes."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
