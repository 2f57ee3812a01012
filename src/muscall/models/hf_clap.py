"""A whole transformers ClapModel (LAION-CLAP) as the dual encoder, fine-tuned as it is."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from muscall.models.dual_encoder import DualEncoder
from muscall.models.hf_audio import HFFeatureExtractor
from muscall.models.hf_bundle import saved_files
from muscall.models.hf_hub import load_model
from muscall.models.hf_text import HFTokenizer


class HFClap(DualEncoder):
    """ClapModel's towers, projections and temperature behind DualEncoder's interface.

    The embeddings are ClapModel's own `get_audio_features` / `get_text_features`, from its
    own feature extractor and tokenizer. CLAP keeps one temperature per direction; the
    symmetric loss here learns the text one (`logit_scale_t`) and leaves the audio one be.
    """

    def __init__(
        self,
        name_or_path: str,
        pretrained: bool = True,
        logit_scale_max: float = 100.0,
        max_length: int | None = None,
    ):
        # DualEncoder's constructor builds its own projections; CLAP brings its own.
        nn.Module.__init__(self)
        from transformers import ClapModel

        self.name_or_path = str(name_or_path)
        clap = load_model(self.name_or_path, pretrained, ClapModel)
        self.config = clap.config
        self.frontend = HFFeatureExtractor(self.name_or_path)
        self.tokenizer = HFTokenizer(self.name_or_path, max_length)
        # Not `clap` itself as a submodule: each weight under one name, as in DualEncoder.
        self.audio_encoder = clap.audio_model
        self.audio_proj = clap.audio_projection
        self.text_encoder = clap.text_model
        self.text_proj = clap.text_projection
        self.logit_scale = clap.logit_scale_t  # a log, like DualEncoder's
        self.embed_dim = int(clap.config.projection_dim)
        self.log_logit_scale_max = float(torch.tensor(logit_scale_max).log())

    @property
    def takes_spec_augment(self) -> bool:
        return True  # CLAP's input is a log-mel, masked in encode_audio

    def hf_files(self) -> dict[str, str]:
        return saved_files(self.config)

    def encode_audio(
        self,
        wave: torch.Tensor,
        normalize: bool = True,
        spec_augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Waveforms (B, T) at the feature extractor's rate -> audio embeddings (B, embed_dim)."""
        features = self.frontend(wave)  # {"input_features": (B, 1, frames, mels), "is_longer"}
        if spec_augment is not None:  # it takes (B, 1, mels, frames)
            spec = features["input_features"].transpose(-1, -2)
            features["input_features"] = spec_augment(spec).transpose(-1, -2)
        pooled = self.audio_encoder(**features).pooler_output  # (B, audio hidden)
        audio_emb = self.audio_proj(pooled)  # (B, E)
        return F.normalize(audio_emb, dim=-1) if normalize else audio_emb

    def encode_text(self, tokens: dict[str, torch.Tensor], normalize: bool = True) -> torch.Tensor:
        pooled = self.text_encoder(
            input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]
        ).pooler_output  # (B, text hidden)
        text_emb = self.text_proj(pooled)  # (B, E)
        return F.normalize(text_emb, dim=-1) if normalize else text_emb
