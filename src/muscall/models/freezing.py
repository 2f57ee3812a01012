"""Freezing a pretrained tower, for good or for its first N training steps."""

from __future__ import annotations

import contextlib

import torch
from torch import nn


class FreezableTower(nn.Module):
    """A tower around `self.model` that can be frozen, and thawed after N optimiser steps.

    Frozen, the model runs in eval mode (no dropout) without keeping activations for
    backward. Frozen for good (`unfreeze_after_steps` null), its weights need no gradient and
    the optimiser never sees them. Frozen for a while, they stay in the optimiser and simply
    get no gradient (AdamW skips them) until `set_step` thaws the tower.
    """

    def _init_freezing(self, freeze: bool, unfreeze_after_steps: int | None) -> None:
        if unfreeze_after_steps is not None and unfreeze_after_steps < 0:
            raise ValueError(f"unfreeze_after_steps={unfreeze_after_steps} must be >= 0 or null")
        self.freeze = bool(freeze) and unfreeze_after_steps != 0
        self.unfreeze_after_steps = unfreeze_after_steps if self.freeze else None
        if self.freeze and unfreeze_after_steps is None:
            self.model.requires_grad_(False)
        if self.freeze:
            self.model.eval()

    def set_step(self, step: int) -> None:
        """Called before each training step with the optimiser steps taken so far."""
        thaw_at = self.unfreeze_after_steps
        if self.freeze and thaw_at is not None and step >= thaw_at:
            self.freeze = False
            self.model.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze:
            self.model.eval()
        return self

    def frozen_context(self):
        return torch.no_grad() if self.freeze else contextlib.nullcontext()
