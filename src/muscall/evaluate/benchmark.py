"""One checkpoint on one benchmark as per-item results, and the intervals drawn from them.

The figures themselves are the evaluation path's (`evaluate.zeroshot`, `evaluate.retrieval`,
the numbers task=zeroshot and task=retrieval print); this module keeps what each was
computed from, item by item, so that test items can be resampled (`evaluate.bootstrap`):
a zero-shot clip's prediction or scores, a retrieval query's rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from muscall.evaluate.bootstrap import (
    Interval,
    Statistic,
    bootstrap,
    macro_tag_auc,
    mean_of,
    median_of,
    paired_difference,
    resample_indices,
)
from muscall.evaluate.ranking import RECALL_AT
from muscall.evaluate.retrieval import RetrievalDetails
from muscall.evaluate.zeroshot import ZeroShotDetails

DIRECTIONS = ("text_to_audio", "audio_to_text")


@dataclass(frozen=True)
class Scored:
    """A checkpoint's figures on a benchmark and, per metric, how to resample them.

    `units` names each resampled population by its item keys (clips; or text->music and
    music->text queries); `statistics[metric]` = (unit, statistic over that unit's indices).
    """

    metrics: dict[str, float]
    units: dict[str, list[str]]
    statistics: dict[str, tuple[str, Statistic]]
    evaluated_ids: list[str]
    counts: dict[str, int]


@dataclass(frozen=True)
class BootstrapSettings:
    resamples: int
    seed: int
    level: float


def scored_zeroshot(
    details: ZeroShotDetails, metrics: dict[str, float], audio_paths: Sequence[Path]
) -> Scored:
    """A labelled set's accuracy or tag AUCs; items keyed by their audio file's stem."""
    ids = [Path(audio_paths[i]).stem for i in details.item_indices]
    figures = {key.rsplit("/", 1)[-1]: value for key, value in metrics.items()}
    if details.type == "classification":
        correct = (details.scores.argmax(dim=1) == details.targets).double() * 100.0
        statistics = {"accuracy": ("items", mean_of(correct))}
    else:
        roc, pr = macro_tag_auc(details.scores, details.targets)
        statistics = {"roc_auc_macro": ("items", roc), "pr_auc_macro": ("items", pr)}
    return Scored(figures, {"items": ids}, statistics, ids, {"items": len(ids)})


def scored_retrieval(
    details: RetrievalDetails, metrics: dict[str, float], track_ids: Sequence[str]
) -> Scored:
    """Both directions' R@K and median rank; queries keyed by track id (and caption number)."""
    tracks = [track_ids[i] for i in details.track_indices]  # audio_emb row -> track id
    owner = details.text_to_audio.tolist()
    caption_keys, seen = [], {}
    for row in owner:
        seen[row] = seen.get(row, -1) + 1
        caption_keys.append(f"{tracks[row]}#{seen[row]}")
    units = {
        "text_to_audio": caption_keys,
        "audio_to_text": [tracks[row] for row in sorted(set(owner))],  # the captioned rows
    }
    statistics = {}
    for direction in DIRECTIONS:
        ranks = details.ranks.ranks[direction].double()
        for k in RECALL_AT:
            hits = (ranks <= k).double() * 100.0
            statistics[f"{direction}_R@{k}"] = (direction, mean_of(hits))
        statistics[f"{direction}_median_rank"] = (direction, median_of(ranks))
    counts = {"tracks": len(tracks), "captions": len(caption_keys)}
    return Scored(dict(metrics), units, statistics, tracks, counts)


def intervals(
    scored: Scored, metrics: Sequence[str], settings: BootstrapSettings
) -> dict[str, Interval]:
    """Each metric's figure and its bootstrap interval (every unit resampled from one seed)."""
    draws = {
        unit: resample_indices(len(keys), settings.resamples, settings.seed)
        for unit, keys in scored.units.items()
    }
    result = {}
    for metric in metrics:
        unit, statistic = scored.statistics[metric]
        result[metric] = bootstrap(statistic, draws[unit], scored.metrics[metric], settings.level)
    return result


def differences(
    first: Scored, second: Scored, metrics: Sequence[str], settings: BootstrapSettings
) -> tuple[dict[str, Interval], dict[str, int]]:
    """second − first per metric on the items both evaluated, on shared resamples; and how
    many items of each unit were paired."""
    aligned = {unit: _common(first.units[unit], second.units[unit]) for unit in first.units}
    draws = {
        unit: resample_indices(len(a), settings.resamples, settings.seed)
        for unit, (a, _) in aligned.items()
    }
    result = {}
    for metric in metrics:
        unit, stat_a = first.statistics[metric]
        stat_b = second.statistics[metric][1]
        pos_a, pos_b = aligned[unit]
        on_a, on_b = _on(stat_a, pos_a), _on(stat_b, pos_b)
        whole = torch.arange(len(pos_a))[None, :]
        value = (on_b(whole) - on_a(whole)).item()
        result[metric] = paired_difference(on_a, on_b, draws[unit], value, settings.level)
    return result, {unit: len(a) for unit, (a, _) in aligned.items()}


def _on(statistic: Statistic, positions: torch.Tensor) -> Statistic:
    """`statistic` over indices into the paired items, mapped to its own item positions."""
    return lambda indices: statistic(positions[indices])


def _common(first: Sequence[str], second: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions in `first` and in `second` of the keys both hold, in `first`'s order."""
    where = {key: position for position, key in enumerate(second)}
    pairs = [(i, where[key]) for i, key in enumerate(first) if key in where]
    if not pairs:
        raise ValueError("the two checkpoints share no evaluated item")
    a, b = zip(*pairs, strict=True)
    return torch.tensor(a), torch.tensor(b)
