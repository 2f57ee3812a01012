"""Checking a dataset up front: every split and labelled set read, every audio file decoded once.

Training skips a bad item when it meets it; this finds them all before a run, grouped by kind
(bad_items.KINDS), by the same readers training uses, so both agree on what is bad.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from muscall.audio.reading import check_whole_file
from muscall.data.bad_items import KINDS, BadItemLog, kind_of
from muscall.data.captions import SPLITS, read_split, split_path
from muscall.data.labelled import read_labelled_set
from muscall.errors import AudioError, DatasetError


@dataclass(frozen=True)
class AudioRef:
    """An audio file and the first entry that names it."""

    path: Path
    audio_id: str | None
    source: Path


@dataclass
class DatasetReport:
    """What a validation found: problem records (as in bad_items.jsonl) and what was read."""

    root: Path
    name: str
    items: int = 0
    audio_files: int = 0
    seconds: float = 0.0
    sample_rates: Counter = field(default_factory=Counter)
    problems: list[dict] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Problems per kind, in KINDS order."""
        found = Counter(p["kind"] for p in self.problems)
        return {
            kind: found[kind] for kind in [*KINDS, *sorted(set(found) - set(KINDS))] if found[kind]
        }

    def as_json(self) -> dict:
        return {
            "root": str(self.root),
            "name": self.name,
            "items": self.items,
            "audio_files": self.audio_files,
            "seconds": round(self.seconds, 3),
            "sample_rates": {str(rate): n for rate, n in sorted(self.sample_rates.items())},
            "problems": len(self.problems),
            "counts": self.counts(),
            "items_with_problems": self.problems,
        }

    def format(self, examples: int, sample_rate: int) -> str:
        """The printed report: totals, then each kind with its count and a few examples."""
        lines = [
            f"{self.root} ({self.name}): {self.items} entries, {self.audio_files} audio files "
            f"decoded ({self.seconds / 60:.1f} min)",
        ]
        other = {r: n for r, n in sorted(self.sample_rates.items()) if r != sample_rate}
        if other:
            rates = ", ".join(f"{n} at {r} Hz" for r, n in other.items())
            lines.append(f"resampled to {sample_rate} Hz when read: {rates}")
        if not self.problems:
            return "\n".join([*lines, "no problems found"])
        lines.append(f"{len(self.problems)} problems:")
        for kind, count in self.counts().items():
            lines.append(f"  {kind} ({count}): {KINDS.get(kind, '')}")
            shown = [p for p in self.problems if p["kind"] == kind][:examples]
            lines.extend(f"    {p['error']}" for p in shown)
            if count > len(shown):
                lines.append(f"    ... and {count - len(shown)} more")
        return "\n".join(lines)


def validate_dataset(
    root: Path,
    name: str,
    sets: Mapping[str, str | Path],
    npy_sample_rate: int,
    workers: int,
) -> DatasetReport:
    """Read every split of `root` and every labelled set, then decode every audio file once."""
    bad_items = BadItemLog(level=logging.DEBUG)  # the report lists them, grouped
    report = DatasetReport(root, name)
    refs: dict[Path, AudioRef] = {}
    for split in SPLITS:
        path = split_path(root, name, split)
        if path.is_file():
            for track in _read(path, bad_items, partial(read_split, root, name, split, bad_items)):
                refs.setdefault(track.audio_path, AudioRef(track.audio_path, track.audio_id, path))
                report.items += 1
    for set_name, set_path in sets.items():
        path = Path(set_path).expanduser()
        labelled = _read(
            path, bad_items, partial(read_labelled_set, path, set_name, None, bad_items)
        )
        for audio_path in labelled.audio_paths if labelled else ():
            refs.setdefault(audio_path, AudioRef(audio_path, None, path))
            report.items += 1
    report.items += sum(1 for record in bad_items.records if "entry" in record)
    report.audio_files = len(refs)
    _decode_all(list(refs.values()), npy_sample_rate, workers, bad_items, report)
    report.problems = bad_items.records
    return report


def _read(path: Path, bad_items: BadItemLog, reader):
    """What `reader` returns; a file it cannot use at all is one problem, and nothing."""
    try:
        return reader()
    except DatasetError as error:
        kind = "bad file" if path.is_file() else "missing"
        bad_items.report(path, error, kind=kind)
        return []


class _FileCheck(Dataset):
    """Decodes one file per item, in a DataLoader worker; returns what it found, never raises."""

    def __init__(self, refs: list[AudioRef], npy_sample_rate: int):
        self.refs = refs
        self.npy_sample_rate = npy_sample_rate

    def __len__(self) -> int:
        return len(self.refs)

    def __getitem__(self, index: int) -> dict:
        try:
            source = check_whole_file(self.refs[index].path, self.npy_sample_rate)
        except (AudioError, OSError) as error:
            return {"index": index, "kind": kind_of(error), "error": str(error)}
        seconds = source.num_frames / source.sample_rate
        return {"index": index, "sample_rate": source.sample_rate, "seconds": seconds}


def _as_is(item: dict) -> dict:
    return item


def _decode_all(
    refs: list[AudioRef],
    npy_sample_rate: int,
    workers: int,
    bad_items: BadItemLog,
    report: DatasetReport,
) -> None:
    loader = DataLoader(
        _FileCheck(refs, npy_sample_rate),
        batch_size=None,
        num_workers=workers,
        collate_fn=_as_is,
    )
    progress = tqdm(
        loader, total=len(refs), unit="file", desc="decoding", disable=not sys.stderr.isatty()
    )
    for result in progress:
        ref = refs[result["index"]]
        if "error" in result:
            bad_items.report(
                ref.path,
                result["error"],
                kind=result["kind"],
                audio_id=ref.audio_id,
                source=ref.source,
            )
            continue
        report.seconds += result["seconds"]
        report.sample_rates[result["sample_rate"]] += 1
