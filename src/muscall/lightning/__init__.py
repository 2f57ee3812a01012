"""Lightning glue: the training module, its schedule, distributed helpers, and callbacks."""

from muscall.lightning.callbacks import (
    BestCheckpoint,
    LastCheckpoint,
    MetricsHistory,
    RNGStateCallback,
)
from muscall.lightning.module import MusCALLModule

__all__ = [
    "BestCheckpoint",
    "LastCheckpoint",
    "MetricsHistory",
    "MusCALLModule",
    "RNGStateCallback",
]
