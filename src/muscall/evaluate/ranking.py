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
    # text→audio: each caption's one relevant audio.
    text_ranks, text_ap = _rank_queries(text_emb, owner[:, None], audio_emb, chunk_size)
    # audio→text: every caption of the audio, for the audios with at least one.
    captioned, captions_of = _captions_by_audio(owner)
    audio_ranks, audio_ap = _rank_queries(audio_emb[captioned], captions_of, text_emb, chunk_size)
    return RetrievalRanks(
        ranks={"text_to_audio": text_ranks, "audio_to_text": audio_ranks},
        ap={"text_to_audio": text_ap, "audio_to_text": audio_ap},
    )


def _captions_by_audio(owner: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The captioned audios (A,) and their caption indices (A, R), padded with -1."""
    order = torch.argsort(owner, stable=True)
    captioned, counts = torch.unique_consecutive(owner[order], return_counts=True)
    first = torch.cumsum(counts, 0) - counts  # where each audio's captions start in `order`
    slot = torch.arange(len(order), device=owner.device) - first.repeat_interleave(counts)
    lists = torch.full(
        (len(captioned), int(counts.max())), -1, dtype=torch.long, device=owner.device
    )
    lists[torch.arange(len(captioned), device=owner.device).repeat_interleave(counts), slot] = order
    return captioned, lists


def _rank_queries(
    queries: torch.Tensor, relevant: torch.Tensor, gallery: torch.Tensor, chunk_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """First-relevant ranks (Q,) and AP@10 (Q,) of (Q, D) queries against a (N, D) gallery.

    `relevant` (Q, R) holds each query's relevant gallery rows, padded with -1. A rank is a
    count of the items scoring at least as high as a relevant one, so nothing is sorted but
    the few relevant scores: the cost stays a small multiple of the similarity matmul.
    """
    ranks, aps = [], []
    for start in range(0, queries.shape[0], chunk_size):
        scores = queries[start : start + chunk_size] @ gallery.T  # (c, N)
        rank, ap = rank_and_ap(scores, relevant[start : start + chunk_size], AP_DEPTH)
        ranks.append(rank)
        aps.append(ap)
    return torch.cat(ranks), torch.cat(aps)


def rank_and_ap(
    scores: torch.Tensor, relevant: torch.Tensor, depth: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rank of the best relevant item (c,) and AP@depth (c,), ties ordered relevant-last.

    `scores` (c, N); `relevant` (c, R) the relevant columns of each row, padded with -1. The
    m-th best relevant item sits at position m + #irrelevant items scoring at least as high.
    """
    # A NaN score (a diverged model) compares false with everything: a NaN relevant score
    # would rank first. It counts as -inf instead: last, tied with everything, and ties count
    # against the query, so its rank is N. NaN gallery scores compare false and are never
    # counted above a finite relevant score, as -inf would not be: the (c, N) scores need no
    # NaN-free copy, which at 100k items would be a second 400 MB array per chunk.
    valid = relevant >= 0
    num_relevant = valid.sum(dim=1)  # (c,)
    relevant_scores = scores.gather(1, relevant.clamp(min=0)).nan_to_num(nan=float("-inf"))
    relevant_scores = relevant_scores.masked_fill(~valid, float("-inf"))
    relevant_scores = relevant_scores.sort(dim=1, descending=True).values  # (c, R)
    k = min(depth, relevant.shape[1])
    best = relevant_scores[:, :k]  # (c, k): only positions <= depth count
    # Items (relevant or not) scoring >= each of the k best relevant scores, one pass each;
    # every item is >= a -inf relevant score.
    everything = torch.tensor(scores.shape[1], device=scores.device)
    at_least = torch.stack(
        [
            torch.where(
                best[:, m] == float("-inf"), everything, (scores >= best[:, m, None]).sum(dim=1)
            )
            for m in range(k)
        ],
        dim=1,
    )
    relevant_at_least = (relevant_scores[:, None, :] >= best[:, :, None]).sum(dim=2)  # (c, k)
    order = torch.arange(1, k + 1, device=scores.device)  # m
    position = order + at_least - relevant_at_least  # (c, k)
    counted = (order <= num_relevant[:, None]) & (position <= depth)
    precision = torch.where(counted, order / position.double(), 0.0)
    ap = precision.sum(dim=1) / num_relevant.clamp(max=depth)
    return position[:, 0], ap


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
