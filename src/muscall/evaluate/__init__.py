"""Evaluation shared by training and the standalone tasks: retrieval and zero-shot."""

from muscall.evaluate.embed import embed_audio
from muscall.evaluate.retrieval import caption_index, retrieval_from_audio_emb
from muscall.evaluate.zeroshot import class_embeddings, evaluate_labelled, evaluate_sets

__all__ = [
    "caption_index",
    "class_embeddings",
    "embed_audio",
    "evaluate_labelled",
    "evaluate_sets",
    "retrieval_from_audio_emb",
]
