"""Lightning glue: the training module, its schedule, callbacks and checkpoint loading."""

from muscall.lightning.callbacks import RNGStateCallback
from muscall.lightning.checkpoint import load_net
from muscall.lightning.module import MusCALLModule

__all__ = ["MusCALLModule", "RNGStateCallback", "load_net"]
