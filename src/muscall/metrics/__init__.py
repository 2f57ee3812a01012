"""Evaluation metrics as pure functions on tensors."""

from muscall.metrics.classification import classification_metrics, tagging_metrics
from muscall.metrics.retrieval import retrieval_metrics

__all__ = ["classification_metrics", "retrieval_metrics", "tagging_metrics"]
