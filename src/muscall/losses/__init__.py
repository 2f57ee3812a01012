"""Contrastive losses (audio-text InfoNCE, audio-audio NT-Xent) and the content-aware weighting."""

from muscall.losses.infonce import InfoNCE, pair_logits, weighted_cross_entropy
from muscall.losses.ntxent import NTXent
from muscall.losses.sentence_embedder import SentenceEmbedder
from muscall.losses.weighting import ContentAwareWeighting, content_weights

__all__ = [
    "ContentAwareWeighting",
    "InfoNCE",
    "NTXent",
    "SentenceEmbedder",
    "content_weights",
    "pair_logits",
    "weighted_cross_entropy",
]
