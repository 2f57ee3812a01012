"""muscall: contrastive audio-language learning for music."""

__version__ = "0.1.0"
