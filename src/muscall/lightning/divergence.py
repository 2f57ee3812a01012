"""Stop a run whose training loss stops being a number, with one message saying what to try.

Without it a diverged run trains on to its last epoch with NaN weights and reports
meaningless retrieval scores; in a sweep, the trial should fail, and fail early.
"""

from __future__ import annotations

import math

import pytorch_lightning as pl

from muscall.errors import MuscallError


class DivergenceError(MuscallError):
    """The training loss became NaN or infinite."""


class StopOnDivergence(pl.Callback):
    """Raises DivergenceError at the first training batch whose loss is not finite."""

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is None:  # a batch of unusable items only: nothing was computed
            return
        value = float(loss)
        if not math.isfinite(value):
            raise DivergenceError(
                f"training diverged: train/loss is {value} at epoch {trainer.current_epoch}, "
                f"step {trainer.global_step} (batch {batch_idx}); lower model.optimizer.lr, "
                "set trainer.gradient_clip_val, or start model.net.logit_scale_init lower"
            )
