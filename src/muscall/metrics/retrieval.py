"""Cross-modal retrieval metrics, both directions, from L2-normalised embeddings.

Conventions:
- Scores are dot products (cosine similarity for unit vectors).
- Ties are resolved against the query: an irrelevant item scoring the same as a relevant one
  ranks above it, so the result never depends on item order and a collapsed model (all
  scores equal) gets the worst ranks, never a "best" checkpoint.
- R@K is the percentage of queries with a relevant item in the top K (as in the paper);
  median and mean rank are 1-based ranks of the first relevant item (the median of an even
  count is the mean of the two middle ranks, as numpy's); mAP@10 is a 0–1 fraction, the mean
  over queries of AP@10 = (1 / min(#relevant, 10)) Σ_{k≤10} P@k · rel_k.
- text→audio has one relevant audio per caption; audio→text counts every caption of the
  audio as relevant. Audios without any caption are left out of the audio→text queries.
- Queries are scored `chunk_size` at a time: memory is O(chunk_size × N), never N × N.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

AP_DEPTH = 10
# The cut-offs of R@K.
RECALL_AT = (1, 5, 10)


@dataclass(frozen=True)
class RetrievalRanks:
    """Every query's rank of its first relevant item and AP@10, by direction.

    The data behind every retrieval metric, keyed `text_to_audio` (one per caption) and
    `audio_to_text` (one per captioned audio): pictures draw these, never a re-ranking.
    """

    ranks: dict[str, torch.Tensor]
    ap: dict[str, torch.Tensor]


def retrieval_metrics(
    audio_emb: torch.Tensor,
    text_emb: torch.Tensor,
    text_to_audio: torch.Tensor,
    chunk_size: int = 1024,
    ks: Sequence[int] = RECALL_AT,
) -> dict[str, float]:
    """R@K, median and mean rank, mAP@10, as `text_to_audio_*` and `audio_to_text_*`."""
    return summarise_ranks(retrieval_ranks(audio_emb, text_emb, text_to_audio, chunk_size), ks)


def summarise_ranks(ranks: RetrievalRanks, ks: Sequence[int] = RECALL_AT) -> dict[str, float]:
    """The metrics of `retrieval_metrics` from per-query ranks and APs."""
    metrics = {}
    for direction, direction_ranks in ranks.ranks.items():
        metrics.update(_summarise(direction, direction_ranks, ranks.ap[direction], ks))
    return metrics


def retrieval_ranks(
    audio_emb: torch.Tensor,
    text_emb: torch.Tensor,
    text_to_audio: torch.Tensor,
    chunk_size: int = 1024,
) -> RetrievalRanks:
    """Per-query ranks and AP@10 of both directions (see the module docstring)."""
    _check_inputs(audio_emb, text_emb, text_to_audio, chunk_size)
    audio_emb, text_emb = audio_emb.float(), text_emb.float()
    owner = text_to_audio.to(device=text_emb.device, dtype=torch.long)
    audio_ids = torch.arange(audio_emb.shape[0], device=owner.device)
    # An item is relevant to a query when both carry the same audio id.
    text_ranks, text_ap = _rank_queries(text_emb, owner, audio_emb, audio_ids, chunk_size)
    captioned = torch.unique(owner)  # audios with at least one caption
    audio_ranks, audio_ap = _rank_queries(
        audio_emb[captioned], captioned, text_emb, owner, chunk_size
    )
    return RetrievalRanks(
        ranks={"text_to_audio": text_ranks, "audio_to_text": audio_ranks},
        ap={"text_to_audio": text_ap, "audio_to_text": audio_ap},
    )


def _rank_queries(
    queries: torch.Tensor,
    query_ids: torch.Tensor,
    gallery: torch.Tensor,
    gallery_ids: torch.Tensor,
    chunk_size: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """First-relevant ranks (Q,) and AP@10 (Q,) of (Q, D) queries against a (N, D) gallery."""
    ranks, aps = [], []
    for start in range(0, queries.shape[0], chunk_size):
        stop = start + chunk_size
        scores = queries[start:stop] @ gallery.T  # (c, N)
        relevant = query_ids[start:stop, None] == gallery_ids[None, :]  # (c, N)
        ranks.append(first_relevant_rank(scores, relevant))
        aps.append(average_precision_at(scores, relevant, AP_DEPTH))
    return torch.cat(ranks), torch.cat(aps)


def first_relevant_rank(scores: torch.Tensor, relevant: torch.Tensor) -> torch.Tensor:
    """1-based rank (c,) of each row's best relevant item: 1 + #irrelevant items scoring >= it."""
    best = scores.masked_fill(~relevant, float("-inf")).amax(dim=1, keepdim=True)  # (c, 1)
    return 1 + ((scores >= best) & ~relevant).sum(dim=1)


def average_precision_at(scores: torch.Tensor, relevant: torch.Tensor, depth: int) -> torch.Tensor:
    """AP@depth (c,), ties ordered relevant-last to match `first_relevant_rank`."""
    # The m-th best relevant item sits at position m + #irrelevant items scoring at least as
    # high; only positions <= depth count, so the best `depth` of each kind suffice.
    num_relevant = relevant.sum(dim=1, keepdim=True)  # (c, 1)
    k = min(depth, int(num_relevant.max()))
    best_relevant = scores.masked_fill(~relevant, float("-inf")).topk(k, dim=1).values  # (c, k)
    irrelevant = scores.masked_fill(relevant, float("-inf"))
    best_irrelevant = irrelevant.topk(min(depth, scores.shape[1]), dim=1).values  # (c, d)
    above = (best_irrelevant[:, None, :] >= best_relevant[:, :, None]).sum(dim=2)  # (c, k)
    order = torch.arange(1, k + 1, device=scores.device)  # m
    position = order + above  # (c, k)
    counted = (order <= num_relevant) & (position <= depth)
    precision = torch.where(counted, order / position.double(), 0.0)
    return precision.sum(dim=1) / num_relevant.squeeze(1).clamp(max=depth)


def _summarise(
    prefix: str, ranks: torch.Tensor, ap: torch.Tensor, ks: Sequence[int]
) -> dict[str, float]:
    ranks = ranks.double()
    metrics = {f"{prefix}_R@{k}": 100.0 * (ranks <= k).double().mean().item() for k in ks}
    ordered = ranks.sort().values
    middle = (ordered[(len(ordered) - 1) // 2] + ordered[len(ordered) // 2]) / 2
    metrics[f"{prefix}_median_rank"] = middle.item()
    metrics[f"{prefix}_mean_rank"] = ranks.mean().item()
    metrics[f"{prefix}_mAP@{AP_DEPTH}"] = ap.double().mean().item()
    return metrics


def _check_inputs(
    audio_emb: torch.Tensor, text_emb: torch.Tensor, text_to_audio: torch.Tensor, chunk_size: int
) -> None:
    if audio_emb.ndim != 2 or text_emb.ndim != 2 or audio_emb.shape[1] != text_emb.shape[1]:
        raise ValueError(
            f"retrieval needs (Na, D) audio and (Nt, D) text embeddings; "
            f"got {tuple(audio_emb.shape)} and {tuple(text_emb.shape)}"
        )
    if len(audio_emb) == 0 or len(text_emb) == 0:
        raise ValueError("retrieval needs at least one audio and one caption")
    if text_to_audio.shape != (text_emb.shape[0],):
        raise ValueError(
            f"text_to_audio must hold one audio index per caption, shape ({text_emb.shape[0]},); "
            f"got {tuple(text_to_audio.shape)}"
        )
    if text_to_audio.min() < 0 or text_to_audio.max() >= audio_emb.shape[0]:
        raise ValueError(f"text_to_audio indices must lie in [0, {audio_emb.shape[0]})")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1; got {chunk_size}")
