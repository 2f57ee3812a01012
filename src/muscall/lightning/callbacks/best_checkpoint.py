"""Keeping the best checkpoint, with ties on a saturated metric broken by a finer one."""

from __future__ import annotations

from typing import Any

import torch
from pytorch_lightning.callbacks import ModelCheckpoint

_BETTER = {"min": torch.lt, "max": torch.gt}


class BestCheckpoint(ModelCheckpoint):
    """ModelCheckpoint (top 1) where an equal `monitor` score wins on `tie_breaker`.

    R@10 saturates on small validation sets (every epoch scores 100), so the first epoch
    to reach it would stay "best" forever; a later epoch with a better mean rank replaces it.
    """

    def __init__(self, *args, tie_breaker: str | None = None, tie_breaker_mode: str = "min", **kw):
        super().__init__(*args, **kw)
        if self.save_top_k != 1:
            raise ValueError("BestCheckpoint keeps one checkpoint: save_top_k must be 1")
        if tie_breaker_mode not in _BETTER:
            raise ValueError(f"tie_breaker_mode must be min or max, got {tie_breaker_mode!r}")
        self.tie_breaker = tie_breaker
        self.tie_breaker_mode = tie_breaker_mode
        self.best_tie_score: torch.Tensor | None = None

    def check_monitor_top_k(self, trainer, current: torch.Tensor | None = None) -> bool:
        if super().check_monitor_top_k(trainer, current):
            return True
        if current is None or self.tie_breaker is None or self.best_tie_score is None:
            return False
        tie = trainer.callback_metrics.get(self.tie_breaker)
        if tie is None or self.best_model_score is None:
            return False
        equal = bool(current.cpu() == self.best_model_score.cpu())
        better = _BETTER[self.tie_breaker_mode](tie.cpu(), self.best_tie_score.cpu())
        return trainer.strategy.reduce_boolean_decision(equal and bool(better))

    def _update_best_and_save(self, current, trainer, monitor_candidates) -> None:
        # Before saving: the checkpoint written below must carry its own tie score.
        tie = monitor_candidates.get(self.tie_breaker) if self.tie_breaker else None
        self.best_tie_score = None if tie is None else tie.detach().cpu().clone()
        super()._update_best_and_save(current, trainer, monitor_candidates)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "best_tie_score": self.best_tie_score}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        if state_dict.get("dirpath", self.dirpath) == self.dirpath:
            self.best_tie_score = state_dict.get("best_tie_score")
