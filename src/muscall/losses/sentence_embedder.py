"""Frozen sentence embeddings of captions (packaged all-MiniLM-L6-v2), cached per caption.

A plain object, not an `nn.Module`: held by a LightningModule it is never registered as a
submodule, so it is neither trained nor written into checkpoints.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from muscall.models.text_minilm import packaged_minilm_path


class SentenceEmbedder:
    """Captions → L2-normalised embeddings (B, E); each distinct caption is encoded once."""

    def __init__(self, device: str = "cpu", batch_size: int = 64, model_path: str | None = None):
        # CPU by default: after the first epoch every caption is cached, so the GPU buys little.
        self.device = device
        self.batch_size = batch_size
        self.model_path = model_path  # None: the packaged weights, never the hub
        self._model = None
        self._cache: dict[str, torch.Tensor] = {}

    def __call__(self, captions: Sequence[str]) -> torch.Tensor:
        if len(captions) == 0:
            raise ValueError("SentenceEmbedder got an empty list of captions")
        missing = list(dict.fromkeys(c for c in captions if c not in self._cache))
        if missing:
            # clone() outside inference mode: encode() returns inference tensors, which
            # autograd refuses to save if they ever meet the loss.
            encoded = self._encode(missing).float().cpu().clone()  # (M, E)
            self._cache.update(zip(missing, encoded, strict=True))
        return torch.stack([self._cache[c] for c in captions])  # (B, E) on the CPU

    @property
    def cache_size(self) -> int:
        return len(self._cache)

    def _encode(self, captions: list[str]) -> torch.Tensor:
        return self._load().encode(
            captions,
            batch_size=self.batch_size,
            convert_to_tensor=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )

    def _load(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            path = self.model_path or packaged_minilm_path(
                "content-aware weighting (loss=weighted; loss=clip trains without it)"
            )
            model = SentenceTransformer(str(path), device=self.device, local_files_only=True)
            self._model = model.eval().requires_grad_(False)
        return self._model

    def __getstate__(self) -> dict:
        # The model reloads lazily; the cache can reach hundreds of MB and rebuilds itself.
        state = self.__dict__.copy()
        state["_model"] = None
        state["_cache"] = {}
        return state
