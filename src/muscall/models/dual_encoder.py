"""The audio-text dual encoder: two towers, two bias-free projections, one learned temperature."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn


class DualEncoder(nn.Module):
    """Waveforms and token dicts -> L2-normalised embeddings in one shared space.

    The contrastive loss lives elsewhere; `forward` returns what it needs.
    """

    def __init__(
        self,
        frontend: nn.Module,
        audio_encoder: nn.Module,
        text_encoder: nn.Module,
        tokenizer: Callable[[Sequence[str]], dict[str, torch.Tensor]],
        embed_dim: int = 512,
        logit_scale_init: float = 1 / 0.07,
        logit_scale_max: float = 100.0,
    ):
        super().__init__()
        if not 0 < logit_scale_init <= logit_scale_max:
            raise ValueError(
                f"need 0 < logit_scale_init ({logit_scale_init}) <= "
                f"logit_scale_max ({logit_scale_max})"
            )
        self.frontend = frontend
        self.audio_encoder = audio_encoder
        self.text_encoder = text_encoder
        self.tokenizer = tokenizer  # a plain callable: it travels to DataLoader workers
        self.embed_dim = embed_dim
        self.audio_proj = nn.Linear(audio_encoder.output_dim, embed_dim, bias=False)
        self.text_proj = nn.Linear(text_encoder.output_dim, embed_dim, bias=False)
        # Stored as a log so the temperature stays positive and its gradient is scale-free.
        self.logit_scale = nn.Parameter(torch.tensor(math.log(logit_scale_init)))
        self.log_logit_scale_max = math.log(logit_scale_max)

    @property
    def device(self) -> torch.device:
        return self.logit_scale.device

    @property
    def takes_spec_augment(self) -> bool:
        """Whether the frontend gives log-mels that log-mel augmentations can mask."""
        return getattr(self.frontend, "gives_log_mel", True)

    @torch.no_grad()
    def clamp_logit_scale(self) -> None:
        """Cap the temperature at logit_scale_max; call after every optimizer step."""
        self.logit_scale.clamp_(max=self.log_logit_scale_max)

    def encode_audio(
        self,
        wave: torch.Tensor,
        normalize: bool = True,
        spec_augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Waveforms (B, T) -> audio embeddings (B, embed_dim).

        `spec_augment` (training only) transforms the log-mel before the encoder; it is passed
        per call, so the network holds no augmentation and evaluation never meets one.
        """
        mel = self.frontend(wave)  # (B, 1, n_mels, frames), or a Hugging Face input dict
        if spec_augment is not None and self.takes_spec_augment:
            mel = spec_augment(mel)
        features = self.audio_encoder(mel)  # (B, audio output_dim)
        audio_emb = self.audio_proj(features)  # (B, E)
        return F.normalize(audio_emb, dim=-1) if normalize else audio_emb

    def encode_text(self, tokens: dict[str, torch.Tensor], normalize: bool = True) -> torch.Tensor:
        """Token dict of (B, L) tensors -> text embeddings (B, embed_dim)."""
        text_emb = self.text_proj(self.text_encoder(tokens))  # (B, E)
        return F.normalize(text_emb, dim=-1) if normalize else text_emb

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        return self.tokenizer(texts)

    @torch.no_grad()
    def embed_text(self, texts: Sequence[str], batch_size: int = 256) -> torch.Tensor:
        """Unit-norm embeddings (N, embed_dim) of N captions, on the module's device."""
        chunks = [torch.zeros(0, self.embed_dim, device=self.device)]
        for start in range(0, len(texts), batch_size):
            tokens = self.tokenize(list(texts[start : start + batch_size]))
            tokens = {k: v.to(self.device) for k, v in tokens.items()}
            chunks.append(self.encode_text(tokens))
        return torch.cat(chunks)

    def forward(
        self, wave: torch.Tensor, tokens: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> (audio_emb (B, E), text_emb (B, E), logit_scale.exp() ()), embeddings unit-norm."""
        audio_emb = self.encode_audio(wave)
        text_emb = self.encode_text(tokens)
        return audio_emb, text_emb, self.logit_scale.exp()
