"""The symmetric contrastive (CLIP) loss, kept apart from the encoders.

Multi-device training injects `gather` (every device's embeddings, concatenated in rank order,
with the gradient) and `rank`; the batch every device sees is then the global one, of W·B
pairs, and `weights`, when given, are one per global pair. As in open_clip:

- `local_loss=True`: each device scores its own B rows against all W·B columns, (B, W·B)
  logits, so memory grows linearly with the global batch. Each device's loss is its share of
  the global loss, scaled so that their mean over devices is the global loss.
- `local_loss=False`: every device computes the whole (W·B, W·B) global loss.

Either way, all_gather's backward sums the gradient every device sends to a device's rows and
DDP averages the parameter gradients, so training follows the gradient of the global loss,
as one process holding the whole batch would. Only training mode gathers: evaluation shards
differ in size across devices, and an evaluation loss needs no gradient.
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
    logits: torch.Tensor,
    labels: torch.Tensor,
    weights: torch.Tensor | None = None,
    weight_total: torch.Tensor | None = None,
) -> torch.Tensor:
    """Cross-entropy averaged over rows, as Σ w_i CE_i / Σ w_i when `weights` (B,) is given.

    `weight_total` replaces Σ w_i, for rows that are a share of a larger weighted batch.
    """
    if weights is None:
        return F.cross_entropy(logits, labels)
    per_row = F.cross_entropy(logits, labels, reduction="none")  # (B,)
    weights = weights.to(per_row.dtype)
    total = weights.sum() if weight_total is None else weight_total.to(per_row.dtype)
    return (weights * per_row).sum() / total


class InfoNCE(nn.Module):
    """½ [CE(audio→text) + CE(text→audio)] with the matching pair on the diagonal."""

    def __init__(
        self,
        gather: Gather | None = None,
        rank: int | Callable[[], int] = 0,
        local_loss: bool = True,
    ):
        super().__init__()
        self.gather = gather
        # A callable rank is read at each step: the trainer knows it only after construction.
        self.rank = rank
        self.local_loss = local_loss
        self._labels: dict[tuple[int, int, torch.device], torch.Tensor] = {}

    def forward(
        self,
        audio_emb: torch.Tensor,
        text_emb: torch.Tensor,
        logit_scale: torch.Tensor | float,
        weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        _check_pairs(audio_emb, text_emb)
        if self.gather is None or not self.training:
            _check_weights(weights, audio_emb.shape[0], "pair")
            return self._symmetric(audio_emb, text_emb, logit_scale, weights)
        all_audio, all_text = self.gather(audio_emb), self.gather(text_emb)  # (W·B, D)
        _check_weights(weights, all_audio.shape[0], "pair of the global batch")
        if not self.local_loss:
            return self._symmetric(all_audio, all_text, logit_scale, weights)
        return self._local_rows(audio_emb, text_emb, all_audio, all_text, logit_scale, weights)

    def _symmetric(self, audio_emb, text_emb, logit_scale, weights) -> torch.Tensor:
        """The loss of a whole batch, every row against every column."""
        per_audio = pair_logits(audio_emb, text_emb, logit_scale)  # (N, N)
        labels = self._cached_labels(audio_emb.shape[0], 0, audio_emb.device)
        audio_to_text = weighted_cross_entropy(per_audio, labels, weights)
        text_to_audio = weighted_cross_entropy(per_audio.T, labels, weights)
        return (audio_to_text + text_to_audio) / 2

    def _local_rows(
        self, audio_emb, text_emb, all_audio, all_text, logit_scale, weights
    ) -> torch.Tensor:
        """This device's rows of the global loss, W times their share of it."""
        size = audio_emb.shape[0]
        offset = self._rank() * size
        per_audio = pair_logits(audio_emb, all_text, logit_scale)  # (B, W·B)
        per_text = pair_logits(text_emb, all_audio, logit_scale)  # (B, W·B)
        labels = self._cached_labels(size, offset, audio_emb.device)
        total = None
        if weights is not None:
            # Σ over these rows / (Σ over all rows / W): the mean over devices is then
            # Σ_all w_i CE_i / Σ_all w_i, even where devices' weight sums differ.
            world = all_audio.shape[0] // size
            total = weights.sum() / world
            weights = weights[offset : offset + size]
        audio_to_text = weighted_cross_entropy(per_audio, labels, weights, total)
        text_to_audio = weighted_cross_entropy(per_text, labels, weights, total)
        return (audio_to_text + text_to_audio) / 2

    def _rank(self) -> int:
        return int(self.rank()) if callable(self.rank) else int(self.rank)

    def _cached_labels(self, size: int, offset: int, device: torch.device) -> torch.Tensor:
        key = (size, offset, device)
        if key not in self._labels:
            self._labels[key] = torch.arange(offset, offset + size, device=device)
        return self._labels[key]


def _check_pairs(audio_emb: torch.Tensor, text_emb: torch.Tensor) -> None:
    if audio_emb.ndim != 2 or audio_emb.shape != text_emb.shape:
        raise ValueError(
            f"InfoNCE needs paired (B, D) embeddings; got audio {tuple(audio_emb.shape)} "
            f"and text {tuple(text_emb.shape)}"
        )


def _check_weights(weights: torch.Tensor | None, size: int, per: str) -> None:
    if weights is not None and weights.shape != (size,):
        raise ValueError(
            f"InfoNCE weights must be one per {per}, shape ({size},); got {tuple(weights.shape)}"
        )
