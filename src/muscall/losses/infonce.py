"""The symmetric contrastive (CLIP) loss, kept apart from the encoders.

Multi-device training injects `gather`: local rows are scored against the embeddings of every
device, so each device computes only its own B rows of the global loss (open_clip's
`local_loss` with `gather_with_grad`); the mean of the per-device losses equals the loss of
the whole global batch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

# Concatenates a (B, D) tensor from every device along dim 0, this device's rows at
# [rank * B, (rank + 1) * B), keeping the gradient (e.g. torch.distributed.nn.all_gather).
Gather = Callable[[torch.Tensor], torch.Tensor]


def pair_logits(
    audio_emb: torch.Tensor, text_emb: torch.Tensor, logit_scale: torch.Tensor | float
) -> torch.Tensor:
    """Logits of every audio-text pair (Na, Nt) = logit_scale · audio_emb · text_embᵀ."""
    return logit_scale * audio_emb @ text_emb.T


def weighted_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Cross-entropy averaged over rows, as Σ w_i CE_i / Σ w_i when `weights` (B,) is given."""
    if weights is None:
        return F.cross_entropy(logits, labels)
    per_row = F.cross_entropy(logits, labels, reduction="none")  # (B,)
    weights = weights.to(per_row.dtype)
    return (weights * per_row).sum() / weights.sum()


class InfoNCE(nn.Module):
    """½ [CE(audio→text) + CE(text→audio)] with the matching pair on the diagonal."""

    def __init__(self, gather: Gather | None = None, rank: int | Callable[[], int] = 0):
        super().__init__()
        self.gather = gather
        # A callable rank is read at each step: the trainer knows it only after construction.
        self.rank = rank
        self._labels: dict[tuple[int, int, torch.device], torch.Tensor] = {}

    def forward(
        self,
        audio_emb: torch.Tensor,
        text_emb: torch.Tensor,
        logit_scale: torch.Tensor | float,
        weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        _check_shapes(audio_emb, text_emb, weights)
        if self.gather is None:
            per_audio = pair_logits(audio_emb, text_emb, logit_scale)  # (B, B)
            per_text = per_audio.T
            offset = 0
        else:
            per_audio = pair_logits(audio_emb, self.gather(text_emb), logit_scale)  # (B, W·B)
            per_text = pair_logits(self.gather(audio_emb), text_emb, logit_scale).T  # (B, W·B)
            offset = self._rank() * audio_emb.shape[0]
        labels = self._cached_labels(audio_emb.shape[0], offset, audio_emb.device)
        audio_to_text = weighted_cross_entropy(per_audio, labels, weights)
        text_to_audio = weighted_cross_entropy(per_text, labels, weights)
        return (audio_to_text + text_to_audio) / 2

    def _rank(self) -> int:
        return int(self.rank()) if callable(self.rank) else int(self.rank)

    def _cached_labels(self, size: int, offset: int, device: torch.device) -> torch.Tensor:
        key = (size, offset, device)
        if key not in self._labels:
            self._labels[key] = torch.arange(offset, offset + size, device=device)
        return self._labels[key]


def _check_shapes(
    audio_emb: torch.Tensor, text_emb: torch.Tensor, weights: torch.Tensor | None
) -> None:
    if audio_emb.ndim != 2 or audio_emb.shape != text_emb.shape:
        raise ValueError(
            f"InfoNCE needs paired (B, D) embeddings; got audio {tuple(audio_emb.shape)} "
            f"and text {tuple(text_emb.shape)}"
        )
    if weights is not None and weights.shape != (audio_emb.shape[0],):
        raise ValueError(
            f"InfoNCE weights must be one per pair, shape ({audio_emb.shape[0]},); "
            f"got {tuple(weights.shape)}"
        )
