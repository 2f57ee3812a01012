"""The audio tower from musicnn's music-trained front and mid end (MSD or MagnaTagATune).

Features are the mid-end map's max and mean over time (1506, batch-normalised as musicnn's back
end does before its dense layers); the tag-biased dense layers are left out. The DualEncoder's
audio projection maps them into the joint space.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from muscall.models.musicnn import MusicnnBody, load_tf_tensors
from muscall.models.saved_weights import packaged_weights_wanted


class MusicnnAudioEncoder(nn.Module):
    """Log-mel (B, 1, 96, frames) from MusicnnMel -> pooled musicnn features (B, 1506).

    `weights`: "msd" or "mtt" (the installed musicnn package's checkpoints), or null for a
    random start. `freeze`: no gradients and batch norm on musicnn's statistics; with
    `unfreeze_after_epochs` N it trains from epoch N on (the module calls `start_epoch`).
    """

    def __init__(
        self,
        weights: str | None = "msd",
        freeze: bool = True,
        unfreeze_after_epochs: int | None = None,
    ):
        super().__init__()
        if unfreeze_after_epochs is not None and (not freeze or unfreeze_after_epochs < 0):
            raise ValueError(
                f"model.net.audio_encoder.unfreeze_after_epochs={unfreeze_after_epochs} needs "
                "freeze: true and a count >= 0 (null: frozen for good, or never frozen)"
            )
        self.body = MusicnnBody()
        if weights is not None and packaged_weights_wanted():
            from muscall.models.musicnn_weights import load_musicnn_tensors

            load_tf_tensors(self.body, load_musicnn_tensors(weights))
        self.output_dim = self.body.output_dim
        self.unfreeze_after_epochs = unfreeze_after_epochs
        self.frozen = bool(freeze)
        if self.frozen and unfreeze_after_epochs is None:
            # Frozen for good: out of the optimiser altogether. Otherwise the weights stay in
            # it and simply get no gradient while frozen (AdamW skips them, decay included).
            self.body.requires_grad_(False)
        self.train(self.training)

    def train(self, mode: bool = True) -> MusicnnAudioEncoder:
        super().train(mode)
        if self.frozen:
            self.body.eval()  # musicnn's running statistics, never this batch's
        return self

    def start_epoch(self, epoch: int) -> None:
        """Unfreeze once `epoch` reaches unfreeze_after_epochs (also right after a resume)."""
        if self.unfreeze_after_epochs is None:
            return
        frozen = epoch < self.unfreeze_after_epochs
        if frozen != self.frozen:
            self.frozen = frozen
            self.train(self.training)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        # A frozen tower need not keep activations for backward.
        context = torch.no_grad() if self.frozen else contextlib.nullcontext()
        with context:
            return self.body(mel)  # (B, 1506)
