"""Any Hugging Face text model as the text tower (AutoModel), with its own tokenizer."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from muscall.errors import MuscallError
from muscall.models.freezing import FreezableTower
from muscall.models.hf_bundle import saved_files
from muscall.models.hf_hub import from_pretrained, load_model
from muscall.models.text_minilm import mean_pool
from muscall.models.tokenizers import _LazyTokenizer

POOLINGS = ("cls", "mean", "eos")
# Model types whose position ids start after the padding id (RoBERTa's scheme): their table
# holds pad_token_id + 1 rows fewer usable positions than its size.
_OFFSET_POSITIONS = ("roberta", "xlm-roberta", "camembert", "clap_text_model", "longformer")
# What a tokenizer says when it does not know its model's length.
_UNKNOWN_LENGTH = 10**6


class HFTextEncoder(FreezableTower):
    """{"input_ids", "attention_mask"} (B, L) -> pooled last hidden states (B, hidden_size).

    `pooling`: "cls" (the first token: BERT/RoBERTa's summary token), "mean" (over the real
    tokens, as sentence-transformers) or "eos" (the last real token: GPT-style, CLIP).
    An encoder-decoder (T5) contributes its encoder.
    """

    def __init__(
        self,
        name_or_path: str,
        pooling: str = "mean",
        freeze: bool = False,
        unfreeze_after_steps: int | None = None,
        pretrained: bool = True,
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise MuscallError(
                f"model.net.text_encoder.pooling={pooling}: choose one of {', '.join(POOLINGS)}"
            )
        self.name_or_path = str(name_or_path)
        model = load_model(self.name_or_path, pretrained)
        self.config = model.config
        if getattr(model.config, "is_encoder_decoder", False):
            model = model.get_encoder()
        # A pooler head would get no gradient (unused weights break DDP).
        if hasattr(model, "pooler"):
            model.pooler = None
        self.model = model
        self.pooling = pooling
        self.output_dim = int(
            self.config.hidden_size if hasattr(self.config, "hidden_size") else self.config.d_model
        )
        self._init_freezing(freeze, unfreeze_after_steps)

    def hf_files(self) -> dict[str, str]:
        return saved_files(self.config)

    def forward(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        mask = tokens["attention_mask"]  # (B, L)
        with self.frozen_context():
            states = self.model(input_ids=tokens["input_ids"], attention_mask=mask)
        return pool_tokens(states.last_hidden_state, mask, self.pooling)  # (B, D)


def pool_tokens(states: torch.Tensor, mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """(B, L, D) states and (B, L) mask -> (B, D) by "cls", "mean" or "eos"."""
    if pooling == "cls":
        return states[:, 0]
    if pooling == "mean":
        return mean_pool(states, mask)
    # The last real token, wherever the padding side put the padding.
    positions = torch.arange(mask.shape[1], device=mask.device)
    last = (mask.long() * positions).argmax(dim=1)  # (B,)
    return states[torch.arange(states.shape[0], device=states.device), last]


class HFTokenizer(_LazyTokenizer):
    """A Hugging Face tokenizer: texts -> {"input_ids", "attention_mask"} (B, <= limit).

    The limit is the model's real one: the tokenizer's model_max_length, or the model's
    position table where the tokenizer does not say, capped by `max_length` when given.
    """

    def __init__(self, name_or_path: str, max_length: int | None = None):
        super().__init__()
        self.name_or_path = str(name_or_path)
        self.max_length = max_length
        self.limit = caption_limit(self.backend, self._model_config(), max_length)

    def _build(self):
        from transformers import AutoTokenizer

        return from_pretrained(AutoTokenizer, self.name_or_path, "tokenizer")

    def _model_config(self):
        from transformers import AutoConfig

        try:
            return from_pretrained(AutoConfig, self.name_or_path, "model config")
        except MuscallError:
            return None  # a folder holding a tokenizer only

    def hf_files(self) -> dict[str, str]:
        return saved_files(self.backend)

    def __call__(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        if not texts:  # the HF tokenizer raises on an empty batch
            empty = torch.zeros(0, 0, dtype=torch.long)
            return {"input_ids": empty, "attention_mask": empty.clone()}
        encoded = self.backend(
            list(texts), padding=True, truncation=True, max_length=self.limit, return_tensors="pt"
        )
        return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}


def caption_limit(tokenizer, config, max_length: int | None) -> int:
    """The most tokens a caption may keep: what the tokenizer and position table allow."""
    limits = []
    if tokenizer.model_max_length < _UNKNOWN_LENGTH:
        limits.append(int(tokenizer.model_max_length))
    text_config = getattr(config, "text_config", None) or config
    positions = getattr(text_config, "max_position_embeddings", None) or getattr(
        text_config, "n_positions", None
    )
    if positions:
        if getattr(text_config, "model_type", "") in _OFFSET_POSITIONS:
            positions -= (getattr(text_config, "pad_token_id", None) or 0) + 1
        limits.append(int(positions))
    if max_length is not None:
        limits.append(int(max_length))
    if not limits:
        raise MuscallError(
            f"{tokenizer.name_or_path}: the tokenizer and model give no length limit; "
            "set the tokenizer's max_length"
        )
    return min(limits)
