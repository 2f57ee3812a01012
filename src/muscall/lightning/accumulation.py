"""Gradient accumulation splits a contrastive batch: each micro-batch sees only its own pairs.

InfoNCE's negatives of a pair are the other pairs of the batch it is scored in. With
`trainer.accumulate_grad_batches=k` Lightning scores k micro-batches apart and adds their
gradients, so an optimizer step over k·N pairs contrasts each pair with N - 1 negatives, not
k·N - 1. Allowed (a deliberate small contrastive batch with a larger optimizer step is a
valid choice), but never silently: `model.grad_cache_chunk` gives the whole batch's negatives
for the memory of one chunk (docs/large-batches.md).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def accumulation_warning(accumulate: int, world_size: int, batch_size: int | None) -> str | None:
    """The warning for `accumulate` micro-batches per step, or None when there is nothing to say."""
    if accumulate <= 1:
        return None
    if batch_size is None:
        micro = "each micro-batch's data.batch_size" + (" x devices" if world_size > 1 else "")
        return (
            f"trainer.accumulate_grad_batches={accumulate}: the contrastive loss contrasts "
            f"{micro} pairs alone, not the {accumulate} micro-batches of an optimizer step "
            "together; for the whole step's negatives raise data.batch_size, set "
            "model.grad_cache_chunk and trainer.accumulate_grad_batches=1 (docs/large-batches.md)"
        )
    micro = batch_size * world_size
    step = micro * accumulate
    return (
        f"trainer.accumulate_grad_batches={accumulate}: each optimizer step's {step} pairs are "
        f"contrasted in {accumulate} groups of {micro}, so every pair has {micro - 1} negatives, "
        f"not {step - 1}; for {step - 1} set data.batch_size={batch_size * accumulate} "
        f"model.grad_cache_chunk={batch_size} trainer.accumulate_grad_batches=1 "
        "(docs/large-batches.md)"
    )


def warn_on_accumulation(trainer) -> None:
    """Logs `accumulation_warning` once, at the start of a fit."""
    datamodule = getattr(trainer, "datamodule", None)
    batch_size = getattr(datamodule, "batch_size", None)
    message = accumulation_warning(
        int(trainer.accumulate_grad_batches), int(trainer.world_size), batch_size
    )
    if message is not None and trainer.is_global_zero:
        log.warning("%s", message)
