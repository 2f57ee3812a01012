"""Text-to-music and music-to-text retrieval over a split, every caption of every track."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from muscall.data.captions import CaptionedAudio
from muscall.evaluate.ranking import RetrievalRanks, retrieval_ranks, summarise_ranks


@dataclass(frozen=True)
class RetrievalDetails:
    """What a split's retrieval metrics were computed from, tracks in split order."""

    ranks: RetrievalRanks
    audio_emb: torch.Tensor  # (N, D) unit norm, one row per track that loaded
    text_emb: torch.Tensor  # (Nt, D) unit norm, one row per caption
    text_to_audio: torch.Tensor  # (Nt,) the audio_emb row each caption describes
    captions: list[str]  # (Nt,)
    track_indices: tuple[int, ...] = ()  # (N,) each audio_emb row's position in the split


def caption_index(tracks: Sequence[CaptionedAudio]) -> tuple[list[str], torch.Tensor]:
    """All captions of `tracks`, flattened, and for each the position of its track."""
    return flatten_captions([track.captions for track in tracks])


def flatten_captions(captions: Sequence[Sequence[str]]) -> tuple[list[str], torch.Tensor]:
    """Per-track caption lists, flattened, and for each caption the position of its track."""
    flat, owner = [], []
    for position, texts in enumerate(captions):
        flat.extend(texts)
        owner.extend([position] * len(texts))
    return flat, torch.tensor(owner, dtype=torch.long)


@torch.inference_mode()
def retrieval_from_audio_emb(
    net,
    tracks: Sequence[CaptionedAudio],
    indices: torch.Tensor,
    audio_emb: torch.Tensor,
    chunk_size: int = 1024,
) -> tuple[dict[str, float], RetrievalDetails]:
    """Retrieval metrics, both directions, for the tracks at `indices` (the ones that loaded),
    and the ranks and embeddings behind them."""
    captions = [tracks[i].captions for i in indices.tolist()]
    return retrieval_from_captions(net, captions, indices, audio_emb, chunk_size)


@torch.inference_mode()
def retrieval_from_captions(
    net,
    captions: Sequence[Sequence[str]],
    indices: torch.Tensor,
    audio_emb: torch.Tensor,
    chunk_size: int = 1024,
) -> tuple[dict[str, float], RetrievalDetails]:
    """Retrieval metrics, both directions, and the ranks and embeddings behind them: row i of
    `audio_emb` is described by `captions[i]`.

    Rows are put in `indices` order first, so the result never depends on batch order.
    """
    order = torch.argsort(indices)
    flat, owner = flatten_captions([captions[i] for i in order.tolist()])
    text_emb = net.embed_text(flat).float().cpu()
    audio_emb = audio_emb[order]
    ranks = retrieval_ranks(audio_emb, text_emb, owner, chunk_size=chunk_size)
    metrics = summarise_ranks(ranks)
    metrics["num_tracks"] = float(len(order))
    metrics["num_captions"] = float(len(flat))
    track_indices = tuple(indices[order].tolist())
    return metrics, RetrievalDetails(ranks, audio_emb, text_emb, owner, flat, track_indices)
