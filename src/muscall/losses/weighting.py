"""MusCALL's content-aware loss weighting: each pair weighted by its caption's batch similarity.

With E the L2-normalised caption embeddings, S = E Eᵀ, s_i = (1/B) Σ_{j≠i} S_ij and
ŝ_i = s_i / Σ_k s_k, MusCALL's code sets w_i = exp(ŝ_i / T): captions more similar to the
rest of the batch weigh more. `inverse=True` gives w_i = exp(-ŝ_i / T) instead. Weights are
returned normalised to mean 1, which leaves Σ w_i CE_i / Σ w_i unchanged. Where Σ_k s_k is
negative or near 0 we depart from MusCALL's code (see `content_weights`).

In multi-device training the batch is the global one (see `losses.infonce`), so
`ContentAwareWeighting.across_devices` weighs every device's captions against all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from muscall.losses.sentence_embedder import SentenceEmbedder

# Below this |Σ_k s_k| the normalisation ŝ = s / Σ s is numerically meaningless.
_MIN_TOTAL_SIMILARITY = 1e-6

Embedder = Callable[[Sequence[str]], torch.Tensor]


def content_weights(
    caption_emb: torch.Tensor, temperature: float = 0.01, inverse: bool = False
) -> torch.Tensor:
    """Per-pair loss weights (B,), mean 1, from L2-normalised caption embeddings (B, E)."""
    if caption_emb.ndim != 2:
        raise ValueError(f"caption_emb must be (B, E); got {tuple(caption_emb.shape)}")
    if temperature <= 0:
        raise ValueError(f"content weighting temperature must be > 0; got {temperature}")
    size = caption_emb.shape[0]
    emb = caption_emb.detach().float()
    uniform = torch.ones(size, device=emb.device)
    if size < 2:
        return uniform
    sim = emb @ emb.T  # (B, B)
    mean_sim = (sim.sum(dim=1) - sim.diagonal()) / size  # (B,) s_i
    total = mean_sim.sum()
    # MusCALL's code divides by Σ s: near 0 that explodes, and a negative Σ s (captions dissimilar
    # on average) would silently flip which captions weigh more. We divide by |Σ s| and fall
    # back to uniform weights when |Σ s| < 1e-6; torch.where avoids a host sync on the GPU.
    share = mean_sim / total.abs().clamp_min(_MIN_TOTAL_SIMILARITY)  # (B,) ŝ_i
    sign = -1.0 if inverse else 1.0
    # softmax(±ŝ/T) = exp(±ŝ/T) / Σ exp(±ŝ/T), without the overflow of exp(ŝ / 0.01).
    weights = size * torch.softmax(sign * share / temperature, dim=0)
    return torch.where(total.abs() < _MIN_TOTAL_SIMILARITY, uniform, weights)


class ContentAwareWeighting:
    """Captions → loss weights (B,); a plain object so Lightning never trains or saves it."""

    def __init__(
        self, temperature: float = 0.01, inverse: bool = False, embedder: Embedder | None = None
    ):
        if temperature <= 0:
            raise ValueError(f"content weighting temperature must be > 0; got {temperature}")
        self.temperature = temperature
        self.inverse = inverse
        self.embedder = embedder if embedder is not None else SentenceEmbedder()

    def __call__(
        self, captions: Sequence[str], device: torch.device | str | None = None
    ) -> torch.Tensor:
        caption_emb = self.embedder(captions)  # (B, E)
        weights = content_weights(caption_emb, self.temperature, self.inverse)
        return weights if device is None else weights.to(device)

    def across_devices(
        self,
        captions: Sequence[str],
        gather: Callable[[torch.Tensor], torch.Tensor],
        device: torch.device | str,
    ) -> torch.Tensor:
        """Weights (W·B,) of the global batch, in `gather`'s order (rank-major), from this
        device's captions and `gather`, which concatenates every device's caption embeddings."""
        # The collective runs where the backend wants it (the GPU for NCCL). From pageable
        # memory a non-blocking copy is staged at once, without waiting for the device.
        caption_emb = self.embedder(captions).to(device, non_blocking=True)  # (B, E)
        return content_weights(gather(caption_emb), self.temperature, self.inverse)  # (W·B,)
