from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from muscall.data.captions import CaptionedAudio
from muscall.data.labelled import LabelledSet
from muscall.evaluate.retrieval import caption_index, retrieval_from_audio_emb
from muscall.evaluate.zeroshot import class_embeddings, evaluate_labelled


class WordModel(torch.nn.Module):
    """Embeds a text as the unit vector of the first known word it contains."""

    words = ("rock", "jazz", "pop", "blues")

    def embed_text(self, texts):
        rows = [torch.eye(4)[next(i for i, w in enumerate(self.words) if w in t)] for t in texts]
        return torch.stack(rows)

    def encode_audio(self, audio):
        return F.normalize(audio, dim=-1)


def test_prompt_ensemble_is_the_normalised_mean_over_templates():
    class Recorder(WordModel):
        seen = []

        def embed_text(self, texts):
            self.seen.extend(texts)
            return F.normalize(torch.randn(len(texts), 4), dim=-1)

    net = Recorder()
    emb = class_embeddings(net, ["rock", "jazz"], ["a {} track", "{} music"])
    assert net.seen == ["a rock track", "rock music", "a jazz track", "jazz music"]
    assert emb.shape == (2, 4)
    torch.testing.assert_close(emb.norm(dim=-1), torch.ones(2))
    with pytest.raises(ValueError, match="slot"):
        class_embeddings(net, ["rock"], ["no slot here"])


def _loader(audio):
    return [{"index": torch.arange(len(audio)), "audio": audio}]


def test_zero_shot_classification_and_tagging_use_the_labels():
    audio = torch.eye(4)[[1, 0, 3, 2]]  # clip i sounds like word perm[i]
    paths = tuple(Path(f"{i}.wav") for i in range(4))
    single = LabelledSet("g", "classification", WordModel.words, paths, ((1,), (0,), (3,), (2,)))
    got, _ = evaluate_labelled(WordModel(), single, _loader(audio), "cpu", ["a {} track"])
    assert got["accuracy"] == 100.0 and got["num_items"] == 4
    wrong = LabelledSet("g", "classification", WordModel.words, paths, ((0,), (1,), (2,), (3,)))
    assert (
        evaluate_labelled(WordModel(), wrong, _loader(audio), "cpu", ["{}"])[0]["accuracy"] == 0.0
    )
    tags = LabelledSet("t", "tagging", WordModel.words, paths, ((1,), (0,), (3,), (2,)))
    assert (
        evaluate_labelled(WordModel(), tags, _loader(audio), "cpu", ["{}"])[0]["roc_auc_macro"]
        == 1.0
    )


def test_retrieval_skips_tracks_that_failed_to_load():
    tracks = [CaptionedAudio(w, Path(w), (f"some {w}", f"more {w}")) for w in WordModel.words]
    captions, owner = caption_index(tracks)
    assert owner.tolist() == [0, 0, 1, 1, 2, 2, 3, 3] and captions[2] == "some jazz"
    # Track 2 ("pop") could not be read: only three embeddings came back, out of order.
    indices = torch.tensor([3, 0, 1])
    got, _ = retrieval_from_audio_emb(WordModel(), tracks, indices, torch.eye(4)[[3, 0, 1]])
    assert got["num_tracks"] == 3 and got["num_captions"] == 6
    assert got["text_to_audio_R@1"] == 100.0 and got["audio_to_text_R@1"] == 100.0
