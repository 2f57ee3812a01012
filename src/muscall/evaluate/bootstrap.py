"""Bootstrap intervals over per-item results: every resample is drawn at once, as a tensor.

A resample draws n of the n test items with replacement; resample b is row b of an index
matrix (B, n), made from one seed, so two checkpoints scored on the same items get the same
resamples and their paired difference has an interval of its own. Statistics take that
matrix and return one value per resample (B,): means and medians index the per-item values;
macro ROC-AUC and PR-AUC weight every item by how often a resample drew it, which gives
exactly the AUCs of the resampled set (drawn copies of an item are ties) without sorting
again. The interval is the percentile interval of the B values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

# (B, n) item indices -> (B,) statistic values
Statistic = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Interval:
    """A point estimate and the bootstrap percentile interval around it."""

    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


def resample_indices(num_items: int, resamples: int, seed: int) -> torch.Tensor:
    """(resamples, num_items) indices drawn with replacement; the same seed, the same draws."""
    if num_items < 1 or resamples < 1:
        raise ValueError(f"bootstrap needs items and resamples; got {num_items}, {resamples}")
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(num_items, (resamples, num_items), generator=generator)


def percentile_interval(values: torch.Tensor, level: float) -> tuple[float, float]:
    """The (1 - level) / 2 and (1 + level) / 2 quantiles of resampled values (B,)."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"bootstrap level must lie in (0, 1); got {level}")
    values = values.double()
    values = values[~values.isnan()]
    if values.numel() == 0:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2
    quantiles = torch.quantile(values, torch.tensor([tail, 1.0 - tail], dtype=torch.double))
    return quantiles[0].item(), quantiles[1].item()


def mean_of(per_item: torch.Tensor) -> Statistic:
    """The mean of per-item values (n,) in each resample: accuracy, R@K."""
    per_item = per_item.double()
    return lambda indices: per_item[indices].mean(dim=1)


def median_of(per_item: torch.Tensor) -> Statistic:
    """The median of per-item values (n,) in each resample, the mean of the two middle ones
    for an even count (as `muscall.evaluate.ranking` reports a median rank)."""
    per_item = per_item.double()

    def median(indices: torch.Tensor) -> torch.Tensor:
        ordered = per_item[indices].sort(dim=1).values
        n = ordered.shape[1]
        return (ordered[:, (n - 1) // 2] + ordered[:, n // 2]) / 2

    return median


def item_counts(indices: torch.Tensor, num_items: int) -> torch.Tensor:
    """How often each item was drawn in each resample: (B, n) indices -> (B, num_items)."""
    counts = torch.zeros(indices.shape[0], num_items, dtype=torch.double)
    return counts.scatter_add_(1, indices, torch.ones_like(indices, dtype=torch.double))


def macro_tag_auc(
    scores: torch.Tensor, targets: torch.Tensor, chunk: int = 256
) -> tuple[Statistic, Statistic]:
    """Macro ROC-AUC and macro PR-AUC (0–1) of scores (n, C) for 0/1 targets (n, C).

    Per resample, a tag counts only when the resample holds both positive and negative
    items of it, as `muscall.evaluate.classification.per_tag_auc` scores a set. Resamples go
    `chunk` at a time through each tag's matrix products. Scores with a NaN (a diverged
    model) have no defined order to resample: every resample is NaN, so is the interval.
    """
    scores, targets = scores.double(), targets.bool()
    if scores.isnan().any():
        undefined = lambda indices: torch.full((len(indices),), float("nan"))  # noqa: E731
        return undefined, undefined
    cache: list = []  # [(indices, (roc, pr))]: the last index matrix, which both statistics read

    def both(indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not cache or cache[0][0] is not indices:
            counts = item_counts(indices, scores.shape[0]).float()
            cache[:] = [(indices, _macro_auc_of_counts(scores, targets, counts, chunk))]
        return cache[0][1]

    return (lambda indices: both(indices)[0]), (lambda indices: both(indices)[1])


def _macro_auc_of_counts(
    scores: torch.Tensor, targets: torch.Tensor, counts: torch.Tensor, chunk: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Macro ROC-AUC and PR-AUC (B,) of item weights `counts` (B, n)."""
    roc_sum = counts.new_zeros(counts.shape[0], dtype=torch.double)
    pr_sum, scored = torch.zeros_like(roc_sum), torch.zeros_like(roc_sum)
    for tag in range(scores.shape[1]):
        parts = _tag_parts(scores[:, tag], targets[:, tag])
        if parts is None:  # no positive or no negative item: never scored
            continue
        for rows in torch.arange(counts.shape[0]).split(chunk):
            roc, pr, valid = _weighted_tag_auc(parts, counts[rows])
            roc_sum[rows] += torch.where(valid, roc, 0.0)
            pr_sum[rows] += torch.where(valid, pr, 0.0)
            scored[rows] += valid.double()
    nan = torch.full_like(roc_sum, float("nan"))
    ok = scored > 0
    return torch.where(ok, roc_sum / scored, nan), torch.where(ok, pr_sum / scored, nan)


def _tag_parts(scores: torch.Tensor, positive: torch.Tensor) -> tuple | None:
    """A tag's positives and negatives and which score at or above which (0/1 matrices)."""
    if positive.all() or not positive.any():
        return None
    pos_scores, neg_scores = scores[positive], scores[~positive]
    neg_at_or_above = (neg_scores[:, None] >= pos_scores[None, :]).float()  # (N, P)
    ties = neg_scores[:, None] == pos_scores[None, :]
    neg_tied = ties.float() if ties.any() else None
    pos_at_or_above = (pos_scores[:, None] >= pos_scores[None, :]).float()  # (P, P)
    where = positive.nonzero().flatten(), (~positive).nonzero().flatten()
    return *where, neg_at_or_above, neg_tied, pos_at_or_above


def _weighted_tag_auc(
    parts: tuple, counts: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One tag's ROC-AUC, PR-AUC and whether both exist (B,), items weighted by `counts`.

    Drawn copies of an item tie with it, so a weighted set is the resampled set: ROC-AUC
    counts, for each positive, the negatives below it (ties half); PR-AUC averages the
    precision at each positive's score over the positives. The weighted counts are sums
    of whole numbers below 2**24, exact in float32 matrix products.
    """
    pos_items, neg_items, neg_at_or_above, neg_tied, pos_at_or_above = parts
    w_pos, w_neg = counts[:, pos_items], counts[:, neg_items]
    neg_above = (w_neg @ neg_at_or_above).double()  # (B, P)
    pos_above = (w_pos @ pos_at_or_above).double()
    w_pos, total_neg = w_pos.double(), w_neg.double().sum(dim=1)
    total_pos = w_pos.sum(dim=1)
    beaten = total_neg[:, None] - neg_above
    if neg_tied is not None:
        beaten += (w_neg @ neg_tied).double() / 2
    valid = (total_pos > 0) & (total_neg > 0)
    roc = (w_pos * beaten).sum(dim=1) / (total_pos * total_neg).clamp(min=1e-300)
    precision = pos_above / (pos_above + neg_above).clamp(min=1e-300)
    pr = (w_pos * precision).sum(dim=1) / total_pos.clamp(min=1e-300)
    return roc, pr, valid


def bootstrap(statistic: Statistic, indices: torch.Tensor, value: float, level: float) -> Interval:
    """`value` (the full set's figure) with the percentile interval of `statistic`."""
    low, high = percentile_interval(statistic(indices), level)
    return Interval(value, low, high)


def paired_difference(
    first: Statistic, second: Statistic, indices: torch.Tensor, value: float, level: float
) -> Interval:
    """second − first on the same resamples: the interval of a paired difference."""
    low, high = percentile_interval(second(indices) - first(indices), level)
    return Interval(value, low, high)
