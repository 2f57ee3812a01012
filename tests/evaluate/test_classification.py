"""Classification and tagging metrics against scikit-learn and hand-worked cases."""

from __future__ import annotations

import math

import pytest
import torch
from sklearn.metrics import accuracy_score, average_precision_score, f1_score, roc_auc_score

from muscall.evaluate.classification import classification_metrics, tagging_metrics


@pytest.mark.parametrize("num_items,num_classes,seed", [(50, 10, 0), (200, 7, 1), (13, 20, 2)])
def test_classification_matches_sklearn(num_items, num_classes, seed):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(num_items, num_classes, generator=gen)
    targets = torch.randint(0, num_classes, (num_items,), generator=gen)
    # A useful-but-imperfect classifier: boost the true class on some items.
    logits[torch.arange(num_items), targets] += 1.5 * torch.rand(num_items, generator=gen)
    predictions = logits.argmax(dim=1).numpy()
    metrics = classification_metrics(logits, targets)
    assert metrics["accuracy"] == pytest.approx(100 * accuracy_score(targets.numpy(), predictions))
    expected_f1 = f1_score(targets.numpy(), predictions, average="macro", zero_division=0)
    assert metrics["macro_f1"] == pytest.approx(100 * expected_f1)


def test_classification_perfect_and_all_wrong():
    targets = torch.tensor([0, 1, 2, 2, 1])
    perfect = torch.nn.functional.one_hot(targets, 4).float()
    assert classification_metrics(perfect, targets) == {"accuracy": 100.0, "macro_f1": 100.0}
    wrong = torch.nn.functional.one_hot((targets + 1) % 3, 4).float()
    assert classification_metrics(wrong, targets) == {"accuracy": 0.0, "macro_f1": 0.0}


def test_macro_f1_by_hand():
    # Predictions 0,0,1,1 for targets 0,1,1,1: class 0 F1 = 2·1/(2+1) , class 1 F1 = 2·2/(2+3).
    logits = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    metrics = classification_metrics(logits, torch.tensor([0, 1, 1, 1]))
    assert metrics["accuracy"] == pytest.approx(75.0)
    assert metrics["macro_f1"] == pytest.approx(100 * (2 / 3 + 4 / 5) / 2)


def test_classification_rejects_bad_targets():
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        classification_metrics(torch.zeros(2, 3), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="logits"):
        classification_metrics(torch.zeros(2, 3), torch.tensor([0, 1, 2]))


def _sklearn_tagging(scores, targets):
    kept = [c for c in range(targets.shape[1]) if 0 < targets[:, c].sum() < targets.shape[0]]
    roc = [roc_auc_score(targets[:, c], scores[:, c]) for c in kept]
    pr = [average_precision_score(targets[:, c], scores[:, c]) for c in kept]
    return sum(roc) / len(roc), sum(pr) / len(pr), len(kept)


@pytest.mark.parametrize("coarse", [False, True])
@pytest.mark.parametrize("num_items,num_tags,seed", [(40, 6, 0), (300, 50, 1)])
def test_tagging_matches_sklearn(num_items, num_tags, seed, coarse):
    gen = torch.Generator().manual_seed(seed)
    targets = (torch.rand(num_items, num_tags, generator=gen) < 0.2).long()
    targets[:, 0] = 0  # a tag nobody has: skipped
    targets[:, 1] = 1  # a tag everybody has: skipped
    scores = torch.randn(num_items, num_tags, generator=gen) + targets
    if coarse:  # many tied scores
        scores = (scores * 2).round() / 2
    metrics = tagging_metrics(scores, targets)
    roc, pr, kept = _sklearn_tagging(scores.numpy(), targets.numpy())
    assert metrics["roc_auc_macro"] == pytest.approx(roc, abs=1e-12)
    assert metrics["pr_auc_macro"] == pytest.approx(pr, abs=1e-12)
    assert metrics["num_tags_scored"] == kept == num_tags - 2


def test_tagging_perfect_and_reversed():
    targets = torch.tensor([[1, 0], [0, 1], [1, 1], [0, 0]])
    perfect = tagging_metrics(targets.float(), targets)
    assert perfect == {"roc_auc_macro": 1.0, "pr_auc_macro": 1.0, "num_tags_scored": 2.0}
    reversed_ = tagging_metrics(-targets.float(), targets)
    assert reversed_["roc_auc_macro"] == 0.0
    # Both positives tie at the bottom: they enter together, at precision 2/4.
    assert reversed_["pr_auc_macro"] == pytest.approx(2 / 4)
    staggered = tagging_metrics(
        -targets.float() * torch.tensor([[1.0], [2.0], [3.0], [4.0]]), targets
    )
    # Distinct scores: positives enter at positions 3 and 4, precision 1/3 then 2/4.
    assert staggered["pr_auc_macro"] == pytest.approx((1 / 3 + 2 / 4) / 2)


def test_tagging_constant_scores_are_chance():
    targets = torch.tensor([[1], [0], [0], [1], [0]])
    metrics = tagging_metrics(torch.zeros(5, 1), targets)
    assert metrics["roc_auc_macro"] == 0.5
    assert metrics["pr_auc_macro"] == pytest.approx(2 / 5)


def test_tagging_all_tags_skipped_is_nan_with_a_warning():
    with pytest.warns(UserWarning, match="no tag"):
        metrics = tagging_metrics(torch.randn(4, 2), torch.tensor([[1, 0]] * 4))
    assert math.isnan(metrics["roc_auc_macro"]) and math.isnan(metrics["pr_auc_macro"])
    assert metrics["num_tags_scored"] == 0.0


def test_tagging_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="one shape"):
        tagging_metrics(torch.zeros(3, 2), torch.zeros(3, 3))
