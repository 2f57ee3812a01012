"""Learning-rate schedule: linear warm-up, then one cosine decay to a floor."""

from __future__ import annotations

import math


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
