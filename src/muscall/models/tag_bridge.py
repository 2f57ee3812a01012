"""The tag bridge: text search with no training, through musicnn's 50-tag vocabulary.

Built as a DualEncoder whose projections are the identity, so every path that takes a
checkpoint (index, search, serve, zero-shot, retrieval, muscall.load) takes it unchanged:
- audio: a track's tag probabilities (mean over its 3 s patches), L2-normalised: its tag profile;
- text: the packaged MiniLM embeds the query and each tag; the query's weights over the tags
  are a softmax of those cosines at `temperature`, its `top_k` strongest kept.
A track's score for a query is the cosine between the two: its profile weighed by the tags the
query is about.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from muscall.models.musicnn import MusicnnTagger, load_tf_tensors
from muscall.models.musicnn_frontend import PATCH_FRAMES
from muscall.models.musicnn_tags import TAGS
from muscall.models.saved_weights import packaged_weights_wanted
from muscall.models.text_minilm import MiniLMTextEncoder
from muscall.models.tokenizers import MiniLMTokenizer


class TagProbabilities(nn.Module):
    """musicnn log-mel (B, 1, 96, frames) -> mean tag probabilities of its patches (B, 50)."""

    def __init__(self, tagger: str):
        super().__init__()
        if tagger not in TAGS:
            raise ValueError(f"tagger={tagger!r}: choose one of {sorted(TAGS)}")
        self.tags = list(TAGS[tagger])
        self.tagger = MusicnnTagger(num_tags=len(self.tags))
        if packaged_weights_wanted():
            from muscall.models.musicnn_weights import load_musicnn_tensors

            load_tf_tensors(self.tagger, load_musicnn_tensors(tagger))
        self.tagger.requires_grad_(False)
        self.output_dim = len(self.tags)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        batch, frames = mel.shape[0], mel.shape[-1]
        count = frames // PATCH_FRAMES
        if count == 0:  # shorter than a patch: the network pools whatever there is
            return torch.sigmoid(self.tagger(mel))
        patches = mel[..., : count * PATCH_FRAMES].reshape(batch, 1, mel.shape[2], count, -1)
        patches = patches.permute(0, 3, 1, 2, 4).flatten(0, 1)  # (B * count, 1, 96, 187)
        return torch.sigmoid(self.tagger(patches)).view(batch, count, -1).mean(dim=1)


class TagQueryWeights(nn.Module):
    """MiniLM tokens of a query (B, L) -> its weights over the tag vocabulary (B, 50)."""

    def __init__(
        self,
        tagger: str,
        template: str,
        temperature: float,
        top_k: int,
        max_length: int,
    ):
        super().__init__()
        if temperature <= 0 or top_k < 1:
            raise ValueError(f"temperature ({temperature}) and top_k ({top_k}) must be positive")
        self.tags = list(TAGS[tagger])
        self.minilm = MiniLMTextEncoder(freeze=True)
        self.temperature = temperature
        self.top_k = min(top_k, len(self.tags))
        prompts = [template.format(tag.lower()) for tag in self.tags]
        with torch.no_grad():
            tag_emb = F.normalize(self.minilm(MiniLMTokenizer(max_length)(prompts)), dim=-1)
        self.register_buffer("tag_emb", tag_emb)  # (50, 384)
        self.output_dim = len(self.tags)

    def forward(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        query = F.normalize(self.minilm(tokens), dim=-1)  # (B, 384)
        weights = torch.softmax(query @ self.tag_emb.T / self.temperature, dim=-1)  # (B, 50)
        kept = weights.topk(self.top_k, dim=-1)
        return torch.zeros_like(weights).scatter_(-1, kept.indices, kept.values)


def tag_bridge_config(tagger: str = "msd") -> dict:
    """The network config of the tag bridge: what a checkpoint's net_config would hold."""
    return {
        "_target_": "muscall.models.DualEncoder",
        "embed_dim": len(TAGS[tagger]),
        "frontend": {"_target_": "muscall.models.MusicnnMel", "sample_rate": 16000},
        "audio_encoder": {"_target_": "muscall.models.TagProbabilities", "tagger": tagger},
        "text_encoder": {
            "_target_": "muscall.models.TagQueryWeights",
            "tagger": tagger,
            # "{} music" relates queries to tags better than the bare tag or "a {} song".
            "template": "{} music",
            "temperature": 0.05,
            "top_k": 5,
            "max_length": 64,
        },
        "tokenizer": {"_target_": "muscall.models.MiniLMTokenizer", "max_length": 64},
    }


def identity_projections(net: nn.Module) -> nn.Module:
    """Make the DualEncoder's projections the identity: tag space is the joint space."""
    with torch.no_grad():
        for proj in (net.audio_proj, net.text_proj):
            proj.weight.copy_(torch.eye(*proj.weight.shape))
            proj.weight.requires_grad_(False)
    return net
