"""The held-out ceiling: exact expectation against brute force and the project's metrics."""

from __future__ import annotations

import itertools

import pytest
import torch
from bench.heldout.ceiling import ceiling

from muscall.evaluate.ranking import retrieval_metrics

GROUPS = ["a", "a", "b", "c", "c", "c", "d", "d", "d", "d", "d", "d", "d"]
CAPTIONS = [1, 2, 1, 3, 1, 1, 2, 1, 1, 1, 1, 1, 1]


def _brute_force(groups, captions_per_clip) -> dict[str, float]:
    """Every caption, every order of its group: the mean over all of them, by enumeration."""
    totals = {1: 0.0, 5: 0.0, 10: 0.0, "rank": 0.0}
    for clip, (group, count) in enumerate(zip(groups, captions_per_clip, strict=True)):
        members = [i for i, g in enumerate(groups) if g == group]
        orders = list(itertools.permutations(members))
        ranks = [order.index(clip) + 1 for order in orders]
        for k in (1, 5, 10):
            totals[k] += count * sum(rank <= k for rank in ranks) / len(orders)
        totals["rank"] += count * sum(ranks) / len(orders)
    queries = sum(captions_per_clip)
    result = {f"text_to_audio_R@{k}": 100 * totals[k] / queries for k in (1, 5, 10)}
    result["text_to_audio_mean_rank"] = totals["rank"] / queries
    return result


def test_ceiling_is_the_brute_force_expectation():
    exact = ceiling(GROUPS, CAPTIONS)
    for key, value in _brute_force(GROUPS, CAPTIONS).items():
        assert exact[key] == pytest.approx(value)
    # A group of 7 is the only one a top-5 list can miss.
    assert exact["text_to_audio_R@5"] < 100.0 == exact["text_to_audio_R@10"]
    assert exact["num_groups"] == 4 and exact["largest_group"] == 7


def test_an_ideal_model_scored_by_the_project_metrics_averages_to_the_ceiling():
    """Embeddings that know the group and nothing else, with random order inside it."""
    keys = sorted(set(GROUPS))
    group_of = torch.tensor([keys.index(g) for g in GROUPS])
    owner = torch.repeat_interleave(torch.arange(len(GROUPS)), torch.tensor(CAPTIONS))
    text_emb = torch.nn.functional.one_hot(group_of[owner], len(keys)).float()
    generator = torch.Generator().manual_seed(0)
    sums: dict[str, float] = {}
    trials = 400
    for _ in range(trials):
        # The group's clips in a fresh random order: a random tilt along the group's axis.
        tilt = 1.0 + 0.1 * torch.rand(len(GROUPS), 1, generator=generator)
        audio_emb = torch.nn.functional.one_hot(group_of, len(keys)).float() * tilt
        metrics = retrieval_metrics(audio_emb, text_emb, owner)
        for key in ("text_to_audio_R@1", "text_to_audio_R@5", "text_to_audio_mean_rank"):
            sums[key] = sums.get(key, 0.0) + metrics[key] / trials
    exact = ceiling(GROUPS, CAPTIONS)
    assert sums["text_to_audio_R@1"] == pytest.approx(exact["text_to_audio_R@1"], abs=1.5)
    assert sums["text_to_audio_R@5"] == pytest.approx(exact["text_to_audio_R@5"], abs=1.5)
    assert sums["text_to_audio_mean_rank"] == pytest.approx(
        exact["text_to_audio_mean_rank"], abs=0.1
    )


def test_ceiling_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="one group key"):
        ceiling(["a", "b"], [1])
