"""Lightning glue: the training module, its schedule, and callbacks."""

from muscall.lightning.best_checkpoint import BestCheckpoint
from muscall.lightning.callbacks import RNGStateCallback
from muscall.lightning.history import MetricsHistory
from muscall.lightning.last_checkpoint import LastCheckpoint
from muscall.lightning.module import MusCALLModule

__all__ = [
    "BestCheckpoint",
    "LastCheckpoint",
    "MetricsHistory",
    "MusCALLModule",
    "RNGStateCallback",
]
