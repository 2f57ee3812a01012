"""Contrastive losses and MusCALL's content-aware weighting."""

from muscall.losses.infonce import InfoNCE, clip_logits, weighted_cross_entropy
from muscall.losses.sentence_embedder import SentenceEmbedder, packaged_minilm_path
from muscall.losses.weighting import ContentAwareWeighting, content_weights

__all__ = [
    "ContentAwareWeighting",
    "InfoNCE",
    "SentenceEmbedder",
    "clip_logits",
    "content_weights",
    "packaged_minilm_path",
    "weighted_cross_entropy",
]
