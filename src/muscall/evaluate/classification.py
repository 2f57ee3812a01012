"""Zero-shot classification (accuracy, macro F1) and tagging (ROC-AUC, PR-AUC) metrics.

Units: accuracy and macro F1 in percent, like the paper's accuracy; ROC-AUC and PR-AUC as 0–1
fractions, the MIR convention for MagnaTagATune. Definitions follow scikit-learn's:
- macro F1 averages over the classes that occur in the targets or the predictions;
- ROC-AUC gives tied scores half credit (trapezoids); PR-AUC is average precision,
  Σ_n (R_n − R_{n−1}) P_n over distinct score thresholds;
- tagging averages over tags with both positive and negative clips; the rest are skipped
  (their AUC is undefined) and `num_tags_scored` says how many were kept.
"""

from __future__ import annotations

import warnings

import torch


def classification_metrics(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """`accuracy` and `macro_f1`, in percent, of argmax predictions from logits (N, C)."""
    if logits.ndim != 2 or targets.shape != (logits.shape[0],) or logits.shape[0] == 0:
        raise ValueError(
            f"classification needs logits (N, C) and targets (N,), N > 0; "
            f"got {tuple(logits.shape)} and {tuple(targets.shape)}"
        )
    num_classes = logits.shape[1]
    targets = targets.to(device=logits.device, dtype=torch.long)
    if targets.min() < 0 or targets.max() >= num_classes:
        raise ValueError(f"class targets must lie in [0, {num_classes})")
    predictions = logits.argmax(dim=1)  # (N,)
    correct = predictions == targets
    true_pos = torch.bincount(targets[correct], minlength=num_classes)  # (C,)
    predicted = torch.bincount(predictions, minlength=num_classes)
    actual = torch.bincount(targets, minlength=num_classes)
    seen = (predicted + actual) > 0  # F1 is undefined for a class never predicted nor present
    f1 = 2 * true_pos[seen] / (predicted[seen] + actual[seen])
    return {
        "accuracy": 100.0 * correct.double().mean().item(),
        "macro_f1": 100.0 * f1.double().mean().item(),
    }


def tagging_metrics(scores: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """`roc_auc_macro`, `pr_auc_macro` (0–1) and `num_tags_scored` for multi-label scores (N, C)."""
    return summarise_tags(per_tag_auc(scores, targets))


def per_tag_auc(scores: torch.Tensor, targets: torch.Tensor) -> dict[int, tuple[float, float]]:
    """(ROC-AUC, PR-AUC) by tag index, for the tags with both positive and negative clips."""
    if scores.ndim != 2 or targets.shape != scores.shape:
        raise ValueError(
            f"tagging needs scores and 0/1 targets of one shape (N, C); "
            f"got {tuple(scores.shape)} and {tuple(targets.shape)}"
        )
    scores, labels = scores.double(), targets.to(device=scores.device).bool()
    positives = labels.sum(dim=0)
    scored = ((positives > 0) & (positives < labels.shape[0])).nonzero().flatten().tolist()
    return {
        c: (
            binary_roc_auc(scores[:, c], labels[:, c]),
            binary_average_precision(scores[:, c], labels[:, c]),
        )
        for c in scored
    }


def summarise_tags(aucs: dict[int, tuple[float, float]]) -> dict[str, float]:
    """The macro averages of `per_tag_auc`'s AUCs, as `tagging_metrics` reports them."""
    if not aucs:
        warnings.warn(
            "tagging metrics: no tag has both positive and negative clips; AUCs are NaN",
            stacklevel=3,
        )
        return {"roc_auc_macro": float("nan"), "pr_auc_macro": float("nan"), "num_tags_scored": 0.0}
    roc = [roc_auc for roc_auc, _ in aucs.values()]
    pr = [pr_auc for _, pr_auc in aucs.values()]
    return {
        "roc_auc_macro": sum(roc) / len(roc),
        "pr_auc_macro": sum(pr) / len(pr),
        "num_tags_scored": float(len(aucs)),
    }


def binary_roc_auc(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """ROC-AUC (0–1) of scores (N,) for bool labels (N,) with both classes present."""
    # Mann–Whitney U with mid-ranks: P(score of a positive > score of a negative), ties ½.
    ranks = _mid_ranks(scores)
    num_pos = labels.sum().double()
    num_neg = labels.numel() - num_pos
    rank_sum = ranks[labels].sum()
    return ((rank_sum - num_pos * (num_pos + 1) / 2) / (num_pos * num_neg)).item()


def binary_average_precision(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """Average precision (0–1) of scores (N,) for bool labels (N,), at least one positive."""
    order = torch.argsort(scores, descending=True)
    sorted_scores, hits = scores[order], labels[order].double()
    # The last position of each run of equal scores is a threshold: ties enter together.
    last_of_run = torch.ones_like(hits, dtype=torch.bool)
    last_of_run[:-1] = sorted_scores[1:] != sorted_scores[:-1]
    true_pos = hits.cumsum(dim=0)[last_of_run]
    predicted = torch.arange(1, len(hits) + 1, device=hits.device)[last_of_run]
    precision = true_pos / predicted
    recall_step = torch.diff(true_pos, prepend=true_pos.new_zeros(1)) / true_pos[-1]
    return (recall_step * precision).sum().item()


def _mid_ranks(values: torch.Tensor) -> torch.Tensor:
    """1-based ranks (N,) of values (N,), ties sharing the mean of their positions."""
    _, inverse, counts = torch.unique(values, return_inverse=True, return_counts=True)
    ends = counts.cumsum(dim=0).double()  # last 1-based position of each distinct value
    return (ends - (counts.double() - 1) / 2)[inverse]
