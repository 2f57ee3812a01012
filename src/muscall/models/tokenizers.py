"""Caption tokenizers: picklable callables texts -> dict of LongTensors, offline only.

They run inside DataLoader workers, so each builds its Rust tokenizer on first use and drops
it when pickled.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence

import torch

from muscall.models.text_minilm import packaged_minilm_path

# CLIP's BPE ids run 0..49407, end-of-text the highest; conf/model/text/clip.yaml must agree.
CLIP_VOCAB_SIZE = 49408


class _LazyTokenizer:
    """Holds an underlying tokenizer built on first use and never pickled."""

    def __init__(self):
        self._backend = None

    def _build(self):
        raise NotImplementedError

    @property
    def backend(self):
        if self._backend is None:
            self._backend = self._build()
        return self._backend

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_backend": None}


def clean_caption(text: str) -> str:
    """CLIP's pre-tokenization clean-up, minus ftfy: unescape HTML, NFC, squeeze whitespace."""
    text = html.unescape(html.unescape(text))
    return " ".join(unicodedata.normalize("NFC", text).split())


class ClipBPETokenizer(_LazyTokenizer):
    """CLIP's BPE: texts -> {"input_ids": (B, L)}, SOT ... EOT then 0-padding.

    L is the longest caption of the batch (SOT to EOT) with `pad_to_longest`, else
    `context_length`. Trimming changes no embedding: the text encoder's mask is causal and it
    pools at EOT, so padding after the last EOT never reaches an output; it only costs time
    (docs/captions.md).
    """

    vocab_size = CLIP_VOCAB_SIZE
    # The config key that sets `limit` (the tokenizer's context_length follows the encoder's).
    limit_key = "model.net.text_encoder.context_length"

    def __init__(self, context_length: int = 77, pad_to_longest: bool = True):
        super().__init__()
        if context_length < 2:
            raise ValueError(f"tokenizer context_length={context_length} must fit SOT and EOT")
        self.context_length = context_length
        self.pad_to_longest = pad_to_longest

    def _build(self):
        import instant_clip_tokenizer

        return instant_clip_tokenizer.Tokenizer()

    @property
    def limit(self) -> int:
        """Tokens kept per caption, SOT and EOT included; the rest is cut."""
        return self.context_length

    def lengths(self, texts: Sequence[str]) -> list[int]:
        """Each caption's length in tokens before any cut, SOT and EOT included."""
        return [len(self.backend.encode(clean_caption(t))) + 2 for t in texts]

    def __call__(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        # instant_clip_tokenizer lowercases and splits on whitespace like CLIP; it skips
        # CLIP's HTML unescaping, so "rock &amp; roll" would otherwise keep the entity.
        cleaned = [clean_caption(t) for t in texts]
        ids = self.backend.tokenize_batch(cleaned, self.context_length)  # uint16 (B, ctx)
        if self.pad_to_longest and len(ids):
            # EOT is each row's highest id; it runs here, in a DataLoader worker, on the host.
            ids = ids[:, : int(ids.argmax(axis=1).max()) + 1]
        return {"input_ids": torch.from_numpy(ids.astype("int64"))}


class MiniLMTokenizer(_LazyTokenizer):
    """all-MiniLM-L6-v2 WordPiece: texts -> {"input_ids", "attention_mask"} (B, <= max_length)."""

    limit_key = "model.net.tokenizer.max_length"

    def __init__(self, max_length: int = 64):
        super().__init__()
        self.max_length = max_length

    @property
    def limit(self) -> int:
        """Word pieces kept per caption, [CLS] and [SEP] included; the rest is cut."""
        return self.max_length

    def lengths(self, texts: Sequence[str]) -> list[int]:
        """Each caption's length in word pieces before any cut, [CLS] and [SEP] included."""
        if not texts:
            return []
        # verbose=False: no warning for a caption longer than the model's 512 positions.
        return [len(ids) for ids in self.backend(list(texts), verbose=False)["input_ids"]]

    def _build(self):
        from transformers import AutoTokenizer

        path = packaged_minilm_path("the MiniLM tokenizer")
        return AutoTokenizer.from_pretrained(path, local_files_only=True)

    def __call__(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        if not texts:  # the HF tokenizer raises on an empty batch
            empty = torch.zeros(0, 0, dtype=torch.long)
            return {"input_ids": empty, "attention_mask": empty.clone()}
        # Pads to the longest caption of the batch: the whole batch is tokenized together.
        encoded = self.backend(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}
