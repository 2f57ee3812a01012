"""How long a dataset's captions are in the active tokenizer's tokens, and how many it cuts.

A tokenizer keeps at most `limit` tokens of a caption and drops the rest without a word; this
measures every split first (median, p95, max, the share cut), so a cut never goes unnoticed.
task=prepare, task=validate and task=train report it (docs/captions.md).

The tokenizer is duck-typed: `lengths(texts)` (each caption's length before any cut),
`limit` and `limit_key` (the config key that sets the limit), as muscall.models' have.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from muscall.data.bad_items import BadItemLog
from muscall.data.captions import SPLITS, CaptionedAudio, read_split, split_path
from muscall.data.json_io import write_json
from muscall.errors import DatasetError

log = logging.getLogger(__name__)

REPORT_FILE = "caption_lengths.json"


@dataclass(frozen=True)
class CaptionLengths:
    """One split's captions in tokens: how long, and how many the tokenizer's limit cuts."""

    split: str
    captions: int
    median: float
    p95: float
    max: int
    limit: int
    truncated: int

    @property
    def truncated_share(self) -> float:
        return self.truncated / self.captions if self.captions else 0.0

    def as_json(self) -> dict:
        return {
            "captions": self.captions,
            "median_tokens": self.median,
            "p95_tokens": self.p95,
            "max_tokens": self.max,
            "limit": self.limit,
            "truncated": self.truncated,
            "truncated_share": self.truncated_share,
        }

    def line(self) -> str:
        return (
            f"{self.split}: {self.captions} captions, tokens median {self.median:g} / "
            f"p95 {self.p95:g} / max {self.max}; {self.truncated} "
            f"({100 * self.truncated_share:.1f} %) longer than the limit of {self.limit}, cut"
        )


def measurable(tokenizer) -> bool:
    """Whether `tokenizer` tells caption lengths (a custom one may not)."""
    return all(hasattr(tokenizer, name) for name in ("lengths", "limit", "limit_key"))


def measure(captions: Sequence[str], tokenizer, split: str) -> CaptionLengths:
    """Length statistics of `captions` in `tokenizer`'s tokens, and how many its limit cuts."""
    lengths = np.asarray(tokenizer.lengths(list(captions)), dtype=np.int64)
    if not len(lengths):
        return CaptionLengths(split, 0, 0.0, 0.0, 0, tokenizer.limit, 0)
    return CaptionLengths(
        split=split,
        captions=len(lengths),
        median=float(np.median(lengths)),
        p95=float(np.percentile(lengths, 95)),
        max=int(lengths.max()),
        limit=int(tokenizer.limit),
        truncated=int((lengths > tokenizer.limit).sum()),
    )


def every_caption(tracks: Iterable[CaptionedAudio]) -> list[str]:
    """Every caption of the tracks: training draws from all of them."""
    return [caption for track in tracks for caption in track.captions]


def read_split_captions(root: Path, name: str) -> dict[str, list[str]]:
    """The captions of each split file of a dataset folder; bad entries are others' to report."""
    quiet = BadItemLog(level=logging.DEBUG)
    found = {}
    for split in SPLITS:
        if not split_path(root, name, split).is_file():
            continue
        try:
            found[split] = every_caption(read_split(root, name, split, quiet))
        except DatasetError:  # a file with no usable entry: nothing to measure
            continue
    return found


def datamodule_captions(datamodule) -> dict[str, list[str]]:
    """Every caption of each split a DataModule serves from a dataset folder."""
    found = {}
    for split in SPLITS:
        try:
            if datamodule.has_split(split):
                found[split] = every_caption(datamodule.tracks(split))
        except DatasetError:  # unreadable: reported where the split is used
            continue
    return found


def report(
    splits: Mapping[str, Sequence[str]], tokenizer, warn_share: float
) -> dict[str, CaptionLengths]:
    """Measure each split, log a line per split and one warning if any cuts over `warn_share`."""
    if not measurable(tokenizer):
        log.info("caption lengths not measured: %s does not tell them", type(tokenizer).__name__)
        return {}
    try:
        found = {split: measure(captions, tokenizer, split) for split, captions in splits.items()}
    except ImportError as error:  # e.g. MiniLM's package missing: a report, never a failure
        log.warning("caption lengths not measured: %s", error)
        return {}
    for stats in found.values():
        log.info("caption lengths, %s", stats.line())
    warn_if_cut(found.values(), tokenizer.limit_key, warn_share)
    return found


def warn_if_cut(found: Iterable[CaptionLengths], limit_key: str, warn_share: float) -> bool:
    """One warning naming the key that raises the limit when a split cuts over `warn_share`."""
    found = list(found)
    cut = [s for s in found if s.truncated_share > warn_share]
    if not cut:
        return False
    shares = ", ".join(f"{100 * s.truncated_share:.1f} % of {s.split}" for s in cut)
    limit = cut[0].limit
    p95 = max(int(np.ceil(s.p95)) for s in found)
    longest = max(s.max for s in found)
    # A long tail can cut more than warn_share with the p95 inside the limit.
    target = f"at least {p95} (the p95), or {longest}" if p95 > limit else f"{longest}"
    log.warning(
        "captions cut: %s are longer than the tokenizer's %d tokens and lose their end "
        "(over captions.warn_truncated=%g); raise %s to %s (the longest) to keep them; "
        "cost: each batch pays for its longest caption (docs/captions.md)",
        shares,
        limit,
        warn_share,
        limit_key,
        target,
    )
    return True


def report_folder(
    root: Path, name: str, tokenizer, warn_share: float, out: Path
) -> dict[str, CaptionLengths]:
    """Measure and log the split files of a dataset folder; saved in `out` (a run folder)."""
    found = report(read_split_captions(root, name), tokenizer, warn_share)
    save(found, tokenizer, out)
    return found


def save(found: Mapping[str, CaptionLengths], tokenizer, folder: Path) -> Path | None:
    """`<folder>/caption_lengths.json`, when anything was measured."""
    if not found:
        return None
    return write_json(Path(folder) / REPORT_FILE, as_json(found, tokenizer.limit_key))


def as_json(found: Mapping[str, CaptionLengths], limit_key: str) -> dict:
    return {"limit_key": limit_key, "splits": {k: v.as_json() for k, v in found.items()}}


def as_metrics(found: Mapping[str, CaptionLengths]) -> dict[str, float]:
    """A run's metrics: each split's p95 length and share cut."""
    metrics = {}
    for split, stats in found.items():
        metrics[f"captions/{split}/p95_tokens"] = stats.p95
        metrics[f"captions/{split}/truncated_share"] = stats.truncated_share
    return metrics
