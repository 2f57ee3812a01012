"""Training-time audio augmentation: a waveform chain, then SpecAugment masks on the log-mel."""

from muscall.augment.chain import Augmentation
from muscall.augment.masking import MelMask
from muscall.augment.noise import ColoredNoise

__all__ = ["Augmentation", "ColoredNoise", "MelMask"]
