"""Embedding every clip a DataLoader yields, keeping track of which items survived."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader


@torch.inference_mode()
def embed_audio(
    model, loader: DataLoader, device: torch.device | str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (item indices (N,), L2-normalised audio embeddings (N, D)) on the CPU.

    Unusable files were dropped by the loader, so the indices say which items are present.
    """
    indices, embeddings = [], []
    for batch in loader:
        if batch is None:
            continue
        embeddings.append(model.encode_audio(batch["audio"].to(device)).float().cpu())
        indices.append(batch["index"])
    if not embeddings:
        return torch.zeros(0, dtype=torch.long), torch.zeros(0, 0)
    return torch.cat(indices), torch.cat(embeddings)
