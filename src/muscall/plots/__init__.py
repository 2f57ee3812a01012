"""Pictures of an evaluation, as PNGs in the run folder (and wandb images when a run is on)."""

from muscall.plots.embedding_map import embedding_map
from muscall.plots.retrieval import draw_retrieval
from muscall.plots.zeroshot import draw_zeroshot

__all__ = ["draw_retrieval", "draw_zeroshot", "embedding_map"]
