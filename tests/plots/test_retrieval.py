import numpy as np
import torch
import torch.nn.functional as F

from muscall.evaluate.ranking import retrieval_ranks
from muscall.evaluate.retrieval import RetrievalDetails
from muscall.plots.retrieval import (
    draw_retrieval,
    first_captions,
    rank_histograms,
    similarity_heatmap,
)

from .conftest import assert_picture


def _details(tracks=6, captions_per_track=2, dim=8):
    audio = F.normalize(torch.randn(tracks, dim, generator=torch.Generator().manual_seed(0)), dim=1)
    owner = torch.arange(tracks).repeat_interleave(captions_per_track)
    text = F.normalize(audio[owner] + 0.3 * torch.randn(len(owner), dim), dim=1)
    captions = [f"caption {i} of track {int(t)}" for i, t in enumerate(owner)]
    return RetrievalDetails(retrieval_ranks(audio, text, owner), audio, text, owner, captions)


def test_rank_histograms_of_few_and_of_many_ranks(tmp_path):
    ranks = {"text_to_audio": np.array([1, 1, 2, 5, 9]), "audio_to_text": np.arange(1, 400)}
    assert_picture(rank_histograms(ranks, tmp_path / "ranks.png", title="test"))


def test_similarity_heatmap(tmp_path):
    emb = np.eye(5)
    assert_picture(similarity_heatmap(emb, emb, tmp_path / "sim.png", ["a caption"] * 5))


def test_each_track_is_paired_with_its_first_caption():
    tracks, first = first_captions(_details(tracks=3, captions_per_track=2))
    assert tracks.tolist() == [0, 1, 2] and first.tolist() == [0, 2, 4]


def test_draw_retrieval_writes_every_picture(tmp_path):
    written = draw_retrieval(_details(), tmp_path, "test")
    names = ["retrieval_ranks_test.png", "similarity_test.png", "embedding_map_test.png"]
    assert [path.name for path in written] == names
    for path in written:
        assert_picture(path)
