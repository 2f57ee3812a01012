"""CLIP-style causal text Transformer, trained from scratch, pooled at the end-of-text token."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from muscall.models.tokenizers import CLIP_VOCAB_SIZE


class ResidualBlock(nn.Module):
    """Pre-LN block: x + causal self-attention(LN x), then x + MLP(LN x)."""

    def __init__(self, width: int, heads: int, mlp_ratio: float, dropout: float):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out_proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        hidden = round(width * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))
        self.dropout = nn.Dropout(dropout)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).unflatten(-1, (3, self.heads, -1)).unbind(2)  # 3 x (B, L, h, d)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (B, h, L, d)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, h, L, d)
        return self.out_proj(out.transpose(1, 2).flatten(2))  # (B, L, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.dropout(self.attention(self.ln_1(x)))
        return x + self.dropout(self.mlp(self.ln_2(x)))


class TextTransformer(nn.Module):
    """Token ids {"input_ids": (B, L)} -> (B, width), the final state at the end-of-text token.

    The end-of-text token has the highest id in CLIP's vocabulary, so argmax finds it; the
    causal mask means padding after it never reaches the pooled state.
    """

    def __init__(
        self,
        vocab_size: int = CLIP_VOCAB_SIZE,
        context_length: int = 77,
        width: int = 512,
        layers: int = 4,
        heads: int = 8,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
    ):
        super().__init__()
        if width % heads:
            raise ValueError(f"text encoder width={width} does not split into {heads} heads")
        self.context_length = context_length
        self.output_dim = width
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.positional_embedding = nn.Parameter(torch.empty(context_length, width))
        self.blocks = nn.ModuleList(
            ResidualBlock(width, heads, mlp_ratio, dropout) for _ in range(layers)
        )
        self.ln_final = nn.LayerNorm(width)
        self._init_weights(width, layers)

    def _init_weights(self, width: int, layers: int) -> None:
        # CLIP's scheme: residual-branch outputs shrink with depth so the stream starts stable.
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        proj_std = width**-0.5 * (2 * layers) ** -0.5
        for block in self.blocks:
            nn.init.normal_(block.qkv.weight, std=width**-0.5)
            nn.init.normal_(block.out_proj.weight, std=proj_std)
            nn.init.normal_(block.mlp[0].weight, std=(2 * width) ** -0.5)
            nn.init.normal_(block.mlp[2].weight, std=proj_std)

    def hidden_states(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Final-LayerNorm states (B, L, width) for token ids (B, L)."""
        length = input_ids.shape[1]
        if length > self.context_length:
            raise ValueError(
                f"text encoder got {length} tokens but context_length={self.context_length}; "
                "make the tokenizer's context_length match the text encoder's"
            )
        x = self.token_embedding(input_ids) + self.positional_embedding[:length]  # (B, L, W)
        for block in self.blocks:
            x = block(x)
        return self.ln_final(x)

    def forward(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        input_ids = tokens["input_ids"]  # (B, L)
        states = self.hidden_states(input_ids)  # (B, L, W)
        eot = input_ids.argmax(dim=-1)  # (B,)
        return states[torch.arange(states.shape[0], device=states.device), eot]  # (B, W)
