"""Learning-rate schedule: linear warm-up, then one cosine decay to a floor.

With a time budget (`trainer.max_time`) the schedule spans the budget: at each step it is as
far along as the larger of the steps taken and the share of the time used, so a run stopped
by time has finished its decay, and a run that ends by epochs first is unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable

# The step count a schedule spans when only a time budget ends the run (no epoch limit).
UNBOUNDED_STEPS = 10**9


def warmup_cosine(total_steps: int, warmup_steps: int, min_lr_ratio: float):
    """Multiplier of the base LR at each step (for LambdaLR); one decay, never cycling."""
    total_steps = max(1, total_steps)
    warmup_steps = min(max(0, warmup_steps), total_steps - 1)

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def within_budget(
    factor: Callable[[float], float], total_steps: int, budget_used: Callable[[], float]
) -> Callable[[int], float]:
    """`factor` advanced to the share of the time budget used, when that is further along."""

    def timed(step: int) -> float:
        return factor(max(step, min(1.0, budget_used()) * total_steps))

    return timed
