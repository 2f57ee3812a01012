import pytest
import torch

from muscall.evaluate.bootstrap import (
    bootstrap,
    item_counts,
    macro_tag_auc,
    mean_of,
    median_of,
    paired_difference,
    resample_indices,
)
from muscall.evaluate.classification import tagging_metrics


def _tagging_case(n=40, tags=5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    targets = (torch.rand(n, tags, generator=generator) < 0.3).long()
    # Scores that carry some signal, rounded so ties occur, as real similarity scores can.
    scores = (targets + torch.randn(n, tags, generator=generator)).mul(4).round() / 4
    return scores, targets


def test_vectorised_tag_auc_matches_a_loop_over_resampled_sets():
    scores, targets = _tagging_case()
    indices = resample_indices(len(scores), 25, seed=3)
    roc, pr = macro_tag_auc(scores, targets, chunk=7)
    got_roc, got_pr = roc(indices), pr(indices)
    for b in range(len(indices)):
        rows = indices[b]
        reference = tagging_metrics(scores[rows], targets[rows])
        assert got_roc[b].item() == pytest.approx(reference["roc_auc_macro"], abs=1e-12)
        assert got_pr[b].item() == pytest.approx(reference["pr_auc_macro"], abs=1e-12)


def test_unit_weights_give_the_full_sets_auc():
    scores, targets = _tagging_case(seed=1)
    identity = torch.arange(len(scores))[None, :]
    roc, pr = macro_tag_auc(scores, targets)
    reference = tagging_metrics(scores, targets)
    assert roc(identity).item() == pytest.approx(reference["roc_auc_macro"], abs=1e-12)
    assert pr(identity).item() == pytest.approx(reference["pr_auc_macro"], abs=1e-12)


def test_median_matches_torch_on_each_resample():
    ranks = torch.randint(1, 50, (31,)).double()
    indices = resample_indices(len(ranks), 10, seed=0)
    got = median_of(ranks)(indices)
    for b in range(len(indices)):
        ordered = ranks[indices[b]].sort().values
        assert got[b].item() == (ordered[15]).item()  # odd count: the middle one


def test_same_seed_same_draws_other_seed_other_draws():
    assert torch.equal(resample_indices(20, 5, 7), resample_indices(20, 5, 7))
    assert not torch.equal(resample_indices(20, 5, 7), resample_indices(20, 5, 8))
    counts = item_counts(resample_indices(20, 5, 7), 20)
    assert torch.equal(counts.sum(dim=1), torch.full((5,), 20.0, dtype=torch.double))


def _accuracy_interval(n, seed=0):
    generator = torch.Generator().manual_seed(seed)
    correct = (torch.rand(n, generator=generator) < 0.6).double() * 100
    indices = resample_indices(n, 500, seed=1)
    return bootstrap(mean_of(correct), indices, correct.mean().item(), 0.95)


def test_interval_contains_the_estimate_and_shrinks_with_more_items():
    small, large = _accuracy_interval(50), _accuracy_interval(2000)
    for interval in (small, large):
        assert interval.low <= interval.value <= interval.high
    assert (large.high - large.low) < 0.5 * (small.high - small.low)


def test_paired_difference_of_a_model_with_itself_is_exactly_zero():
    ranks = torch.randint(1, 30, (60,)).double()
    indices = resample_indices(60, 200, seed=0)
    same = paired_difference(mean_of(ranks), mean_of(ranks), indices, 0.0, 0.95)
    assert (same.low, same.high) == (0.0, 0.0)


def test_paired_interval_is_narrower_than_the_unpaired_spread():
    generator = torch.Generator().manual_seed(5)
    base = (torch.rand(400, generator=generator) < 0.5).double() * 100
    better = base.clone()
    better[:40] = 100.0  # B gets 40 more items right: a real, small, consistent gain
    indices = resample_indices(400, 500, seed=2)
    diff = paired_difference(mean_of(base), mean_of(better), indices, 0.0, 0.95)
    alone = bootstrap(mean_of(base), indices, 0.0, 0.95)
    assert diff.low > 0
    assert (diff.high - diff.low) < (alone.high - alone.low)


def test_nan_scores_give_an_undefined_interval_not_a_wrong_one():
    scores, targets = _tagging_case()
    scores[3, 1] = float("nan")
    roc, pr = macro_tag_auc(scores, targets)
    interval = bootstrap(roc, resample_indices(len(scores), 20, seed=0), 0.5, 0.95)
    assert torch.isnan(torch.tensor([interval.low, interval.high])).all()
