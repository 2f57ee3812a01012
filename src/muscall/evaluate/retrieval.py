"""Text-to-music and music-to-text retrieval over a split, every caption of every track."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from muscall.data.captions import CaptionedAudio
from muscall.metrics import retrieval_metrics


def caption_index(tracks: Sequence[CaptionedAudio]) -> tuple[list[str], torch.Tensor]:
    """All captions of `tracks`, flattened, and for each the position of its track."""
    captions, owner = [], []
    for position, track in enumerate(tracks):
        captions.extend(track.captions)
        owner.extend([position] * len(track.captions))
    return captions, torch.tensor(owner, dtype=torch.long)


@torch.inference_mode()
def retrieval_from_audio_emb(
    model,
    tracks: Sequence[CaptionedAudio],
    indices: torch.Tensor,
    audio_emb: torch.Tensor,
    chunk_size: int = 1024,
) -> dict[str, float]:
    """Retrieval metrics, both directions, for the tracks at `indices` (the ones that loaded)."""
    order = torch.argsort(indices)
    present = [tracks[i] for i in indices[order].tolist()]
    captions, owner = caption_index(present)
    text_emb = model.embed_text(captions).float().cpu()
    metrics = retrieval_metrics(audio_emb[order], text_emb, owner, chunk_size=chunk_size)
    metrics["num_tracks"] = float(len(present))
    metrics["num_captions"] = float(len(captions))
    return metrics
