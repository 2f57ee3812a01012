"""Callbacks: the best and last checkpoints, RNG state, metrics history and curves, bad-item
counts, and stopping on divergence."""

from muscall.lightning.callbacks.best_checkpoint import BestCheckpoint
from muscall.lightning.callbacks.history import MetricsHistory
from muscall.lightning.callbacks.last_checkpoint import LastCheckpoint
from muscall.lightning.callbacks.rng_state import RNGStateCallback

__all__ = ["BestCheckpoint", "LastCheckpoint", "MetricsHistory", "RNGStateCallback"]
