"""Stop a run whose training loss stops being a number, with one message saying what to try.

Without it a diverged run trains on to its last epoch with NaN weights and reports
meaningless retrieval scores; in a sweep, the trial should fail, and fail early.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch

from muscall.errors import MuscallError


class DivergenceError(MuscallError):
    """The training loss became NaN or infinite."""


class StopOnDivergence(pl.Callback):
    """Raises DivergenceError, naming the first training batch whose loss is not finite.

    Checked every `check_every_n_steps` steps (None: trainer.log_every_n_steps) and at each
    epoch's end, in one read from the device: checking every step would make each step wait
    for the device to finish before the next could be queued.
    """

    def __init__(self, check_every_n_steps: int | None = None):
        self.check_every_n_steps = check_every_n_steps
        # (finite (), loss (), epoch, step, batch) of the steps not checked yet.
        self._pending: list[tuple] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is None:  # a batch of unusable items only: nothing was computed
            return
        loss = loss.detach()
        where = (trainer.current_epoch, trainer.global_step, batch_idx)
        self._pending.append((torch.isfinite(loss).all(), loss, *where))
        every = self.check_every_n_steps or getattr(trainer, "log_every_n_steps", 1) or 1
        if len(self._pending) >= every:
            self._check()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._check()

    def _check(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        finite = torch.stack([p[0] for p in pending]).cpu()  # the one wait for the device
        if bool(finite.all()):
            return
        first = int((~finite).nonzero()[0])
        _, loss, epoch, step, batch = pending[first]
        raise DivergenceError(
            f"training diverged: train/loss is {float(loss)} at epoch {epoch}, step {step} "
            f"(batch {batch}); lower model.optimizer.lr, set trainer.gradient_clip_val, or "
            "start model.net.logit_scale_init lower"
        )
