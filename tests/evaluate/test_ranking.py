"""Retrieval metrics: a hand-worked case, a naive reference with ties, and chunking."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from muscall.evaluate import ranking as retrieval
from muscall.evaluate.ranking import retrieval_metrics

DIRECTIONS = ("text_to_audio", "audio_to_text")

# Scores text·audio of 4 captions against 3 audios (audio_emb = I, so text_emb IS the scores).
HAND_SCORES = torch.tensor(
    [
        [0.9, 0.1, 0.2],  # caption 0 of audio 0: first
        [0.3, 0.5, 0.4],  # caption 1 of audio 0: third
        [0.2, 0.6, 0.6],  # caption 2 of audio 1: tied with audio 2, counted second
        [0.7, 0.1, 0.5],  # caption 3 of audio 2: second
    ]
)
HAND_OWNER = torch.tensor([0, 0, 1, 2])


def test_hand_worked_case():
    metrics = retrieval_metrics(torch.eye(3), HAND_SCORES, HAND_OWNER)
    # text→audio ranks 1, 3, 2, 2 (a tie counts against the query); AP@10 = 1/rank.
    assert metrics["text_to_audio_R@1"] == pytest.approx(25.0)
    assert metrics["text_to_audio_R@5"] == pytest.approx(100.0)
    assert metrics["text_to_audio_median_rank"] == pytest.approx(2.0)
    assert metrics["text_to_audio_mean_rank"] == pytest.approx(2.0)
    assert metrics["text_to_audio_mAP@10"] == pytest.approx((1 + 1 / 3 + 1 / 2 + 1 / 2) / 4)
    # audio→text: audio 0 ranks its captions 1st and 3rd (AP (1 + 2/3)/2), audio 1 first
    # (AP 1), audio 2 second (AP 1/2).
    assert metrics["audio_to_text_R@1"] == pytest.approx(200 / 3)
    assert metrics["audio_to_text_R@10"] == pytest.approx(100.0)
    assert metrics["audio_to_text_median_rank"] == pytest.approx(1.0)
    assert metrics["audio_to_text_mean_rank"] == pytest.approx(4 / 3)
    assert metrics["audio_to_text_mAP@10"] == pytest.approx(((1 + 2 / 3) / 2 + 1 + 1 / 2) / 3)


def test_keys_and_units():
    metrics = retrieval_metrics(torch.eye(3), HAND_SCORES, HAND_OWNER, ks=(1, 2))
    expected = {
        f"{d}_{m}" for d in DIRECTIONS for m in ("R@1", "R@2", "median_rank", "mean_rank", "mAP@10")
    }
    assert set(metrics) == expected
    assert all(isinstance(v, float) for v in metrics.values())


def _naive_query(scores: list[float], relevant: list[bool]) -> tuple[int, float]:
    """(1-based rank of the first relevant item, AP@10); ties put relevant items last."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], relevant[i]))
    hits = [relevant[i] for i in order]
    first = hits.index(True) + 1
    precision_sum = sum(sum(hits[: k + 1]) / (k + 1) for k in range(min(10, len(hits))) if hits[k])
    return first, precision_sum / min(sum(relevant), 10)


def _naive_metrics(audio_emb, text_emb, owner, ks=(1, 5, 10)) -> dict[str, float]:
    scores = (text_emb @ audio_emb.T).tolist()  # (Nt, Na)
    owner = owner.tolist()
    queries = {
        "text_to_audio": [
            (scores[t], [a == owner[t] for a in range(len(audio_emb))]) for t in range(len(owner))
        ],
        "audio_to_text": [
            ([row[a] for row in scores], [o == a for o in owner])
            for a in range(len(audio_emb))
            if a in owner
        ],
    }
    metrics = {}
    for direction, items in queries.items():
        results = [_naive_query(s, r) for s, r in items]
        ranks = sorted(rank for rank, _ in results)
        for k in ks:
            metrics[f"{direction}_R@{k}"] = 100 * sum(r <= k for r in ranks) / len(ranks)
        metrics[f"{direction}_median_rank"] = (
            ranks[(len(ranks) - 1) // 2] + ranks[len(ranks) // 2]
        ) / 2
        metrics[f"{direction}_mean_rank"] = sum(ranks) / len(ranks)
        metrics[f"{direction}_mAP@10"] = sum(ap for _, ap in results) / len(results)
    return metrics


def _random_case(num_audio: int, num_text: int, seed: int, coarse: bool):
    gen = torch.Generator().manual_seed(seed)
    audio = torch.randn(num_audio, 4, generator=gen)
    text = torch.randn(num_text, 4, generator=gen)
    if coarse:  # small integers: many exactly tied scores
        audio, text = audio.round(), text.round()
    else:
        audio, text = F.normalize(audio, dim=-1), F.normalize(text, dim=-1)
    # Every caption belongs to one of the first num_audio - 1 audios: the last has none.
    owner = torch.randint(0, num_audio - 1, (num_text,), generator=gen)
    return audio, text, owner


@pytest.mark.parametrize("coarse", [False, True])
@pytest.mark.parametrize("num_audio,num_text,seed", [(5, 9, 0), (30, 70, 1), (40, 40, 2)])
def test_matches_naive_reference(num_audio, num_text, seed, coarse):
    audio, text, owner = _random_case(num_audio, num_text, seed, coarse)
    metrics = retrieval_metrics(audio, text, owner, chunk_size=7)
    expected = _naive_metrics(audio, text, owner)
    assert metrics.keys() == expected.keys()
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value, abs=1e-9), key


@pytest.mark.parametrize("chunk_size", [1, 3, 16, 64])
def test_chunked_equals_unchunked(chunk_size):
    audio, text, owner = _random_case(50, 120, seed=3, coarse=True)
    assert retrieval_metrics(audio, text, owner, chunk_size=chunk_size) == retrieval_metrics(
        audio, text, owner, chunk_size=10**9
    )


def test_score_matrices_never_exceed_the_chunk(monkeypatch):
    seen_rows = []
    original = retrieval.rank_and_ap

    def spy(scores, relevant, depth):
        seen_rows.append(scores.shape[0])
        return original(scores, relevant, depth)

    monkeypatch.setattr(retrieval, "rank_and_ap", spy)
    audio, text, owner = _random_case(20, 45, seed=4, coarse=False)
    retrieval_metrics(audio, text, owner, chunk_size=8)
    assert max(seen_rows) == 8 and sum(seen_rows) == 45 + len(owner.unique())


def test_perfect_embeddings_score_perfectly():
    audio = F.normalize(torch.randn(12, 16), dim=-1)
    owner = torch.arange(12).repeat_interleave(2)  # two identical captions per audio
    metrics = retrieval_metrics(audio, audio[owner], owner)
    for direction in DIRECTIONS:
        assert metrics[f"{direction}_R@1"] == 100.0
        assert metrics[f"{direction}_median_rank"] == 1.0
        assert metrics[f"{direction}_mAP@10"] == pytest.approx(1.0)


def test_rejects_bad_inputs():
    with pytest.raises(ValueError, match="one audio index per caption"):
        retrieval_metrics(torch.eye(3), HAND_SCORES, HAND_OWNER[:3])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        retrieval_metrics(torch.eye(3), HAND_SCORES, torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="embeddings"):
        retrieval_metrics(torch.eye(3), torch.ones(4, 5), HAND_OWNER)
    with pytest.raises(ValueError, match="chunk_size"):
        retrieval_metrics(torch.eye(3), HAND_SCORES, HAND_OWNER, chunk_size=0)


def test_a_collapsed_model_scores_worst_not_best():
    # Every embedding identical: checkpoint selection must never prefer this.
    same = F.normalize(torch.ones(20, 4), dim=1)
    metrics = retrieval_metrics(same, same, torch.arange(20))
    assert metrics["text_to_audio_R@10"] == 0.0
    assert metrics["text_to_audio_median_rank"] == 20.0


def test_nan_embeddings_score_worst_never_best():
    audio = torch.full((6, 4), float("nan"))
    text = F.normalize(torch.randn(6, 4), dim=-1)
    metrics = retrieval_metrics(audio, text, torch.arange(6))
    for direction in DIRECTIONS:
        assert metrics[f"{direction}_R@1"] == 0.0
        assert metrics[f"{direction}_mean_rank"] == 6.0


def test_some_nan_scores_rank_as_minus_infinity():
    """NaN scores are ranked as -inf, whether they fall on a relevant item or on another."""
    gen = torch.Generator().manual_seed(3)
    audio = F.normalize(torch.randn(12, 8, generator=gen), dim=-1)
    text = F.normalize(audio.repeat(2, 1) + 0.9 * torch.randn(24, 8, generator=gen), dim=-1)
    owner = torch.arange(12).repeat(2)
    audio[[2, 7]] = float("nan")  # two audios diverged: NaN in both directions' scores
    scores = (text @ audio.T).nan_to_num(nan=float("-inf"))
    relevant = owner[:, None] == torch.arange(12)[None, :]
    expected = [_naive_query(s.tolist(), r.tolist()) for s, r in zip(scores, relevant, strict=True)]
    ranks = retrieval.retrieval_ranks(audio, text, owner, chunk_size=5)
    assert ranks.ranks["text_to_audio"].tolist() == [rank for rank, _ in expected]
    assert ranks.ap["text_to_audio"].tolist() == pytest.approx([ap for _, ap in expected])
    worst = ranks.ranks["audio_to_text"][[2, 7]]
    # All 24 captions tie at -inf and ties go against the query: its two captions come last.
    assert worst.tolist() == [23, 23]
