"""Audio embeddings for evaluation: the one path every metric of a checkpoint goes through.

Validation inside fit, the test and zero-shot sets after fit, `task=retrieval` and
`task=zeroshot` all embed audio here: the network in eval mode (dropout off, batch-norm on
its running statistics) under `torch.inference_mode()`, so a clip's embedding depends on
the clip alone, never on the batch it came in or on the path that asked for it.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader


@contextlib.contextmanager
def evaluating(net: nn.Module):
    """Eval mode and inference mode for the block; the caller's mode is restored after."""
    # Each submodule's own mode: a caller may keep some in eval (a frozen encoder, say).
    modes = {module: module.training for module in net.modules()}
    net.eval()
    try:
        with torch.inference_mode():
            yield net
    finally:
        for module, training in modes.items():
            module.training = training


def embed_audio_batch(
    net, audio: torch.Tensor, window_owner: torch.Tensor | None = None, chunk_size: int = 64
) -> torch.Tensor:
    """Unit-norm embeddings of a batch: clips (B, T), or windows (W, T) of B whole tracks.

    A whole track is the normalised mean of its windows' unit embeddings. Windows are
    encoded `chunk_size` at a time, so a batch of long tracks never sits in one forward.
    """
    emb = torch.cat([net.encode_audio(part) for part in audio.split(chunk_size)])  # (W, D)
    if window_owner is None:
        return emb
    return pool_windows(emb, window_owner)


def pool_windows(window_emb: torch.Tensor, window_owner: torch.Tensor) -> torch.Tensor:
    """Unit-norm track embeddings (B, D): the normalised sum of each track's window embeddings."""
    owner = window_owner.to(window_emb.device)
    tracks = int(owner.max()) + 1
    pooled = window_emb.new_zeros(tracks, window_emb.shape[1]).index_add_(0, owner, window_emb)
    return F.normalize(pooled, dim=-1)


def embed_audio(
    net, loader: DataLoader, device: torch.device | str, chunk_size: int = 64
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (item indices (N,), L2-normalised audio embeddings (N, D)) on the CPU.

    Unusable files were dropped by the loader, so the indices say which items are present.
    """
    indices, embeddings = [], []
    with evaluating(net):
        for batch in loader:
            if batch is None:
                continue
            owner = batch.get("window_owner")
            emb = embed_audio_batch(net, batch["audio"].to(device), owner, chunk_size)
            embeddings.append(emb.float().cpu())
            indices.append(batch["index"])
    if not embeddings:
        return torch.zeros(0, dtype=torch.long), torch.zeros(0, 0)
    return torch.cat(indices), torch.cat(embeddings)
