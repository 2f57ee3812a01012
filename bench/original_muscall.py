"""The paired baseline of `bench/run.py`: MusCALL's model and training step, run as the original.

A compact re-implementation written from reading ilaria-manco/muscall (GPL-3.0; no code
copied), kept only to time against this project in the same process. What it keeps because it
costs time: the mel frontend inside the audio tower (torchaudio, normalised STFT, f_max
11025 Hz, one dB floor for the whole batch); CLIP's modified ResNet with attention pooling by
`F.multi_head_attention_forward` over a learned 77-entry position table; a text Transformer
with einsum attention, an additive causal mask built on the host and copied to the device at
every forward, and captions zero-padded to 77 tokens; the CLIP loss with fresh labels; AdamW
with PyTorch's default implementation; `.item()` on the logit scale (its clamp test) and on
the loss after every step; fp32 on a CPU, fp16 autocast with a GradScaler on a GPU.

Its 40.77 M parameters against this project's 40.75 M: the original's audio position table
is 77 x 512 (39,424) where ours factorises into 4 + 20 rows plus a query (12,800); its text
attention has no q/k/v bias (ours: 6,144 more); and its text tower holds a final LayerNorm it
never uses besides the one it does (1,024): +26,624 + 1,024 - 6,144 = +21,504.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
import torchaudio
from torch import nn

CONTEXT_LENGTH = 77


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        out = planes * self.expansion
        self.conv1, self.bn1 = nn.Conv2d(inplanes, planes, 1, bias=False), nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.avgpool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.conv3, self.bn3 = nn.Conv2d(planes, out, 1, bias=False), nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride > 1 or inplanes != out:
            self.downsample = nn.Sequential(
                nn.AvgPool2d(stride), nn.Conv2d(inplanes, out, 1, bias=False), nn.BatchNorm2d(out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.avgpool(self.relu(self.bn2(self.conv2(out))))
        out = self.bn3(self.conv3(out))
        out += x if self.downsample is None else self.downsample(x)
        return self.relu(out)


class AttentionPool2d(nn.Module):
    """CLIP's pooling: the grid mean prepended, one position table, torch's MHA function."""

    def __init__(self, positions: int, channels: int, heads: int, output_dim: int):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.randn(positions, channels) / channels**0.5)
        self.k_proj, self.q_proj = nn.Linear(channels, channels), nn.Linear(channels, channels)
        self.v_proj, self.c_proj = nn.Linear(channels, channels), nn.Linear(channels, output_dim)
        self.heads = heads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(2).permute(2, 0, 1)  # (F*T, B, C)
        x = torch.cat([x.mean(dim=0, keepdim=True), x]) + self.positional_embedding[:, None]
        x, _ = F.multi_head_attention_forward(
            query=x,
            key=x,
            value=x,
            embed_dim_to_check=x.shape[-1],
            num_heads=self.heads,
            q_proj_weight=self.q_proj.weight,
            k_proj_weight=self.k_proj.weight,
            v_proj_weight=self.v_proj.weight,
            in_proj_weight=None,
            in_proj_bias=torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias]),
            bias_k=None,
            bias_v=None,
            add_zero_attn=False,
            dropout_p=0.0,
            out_proj_weight=self.c_proj.weight,
            out_proj_bias=self.c_proj.bias,
            use_separate_proj_weight=True,
            training=self.training,
            need_weights=False,
        )
        return x[0]


class OriginalAudioTower(nn.Module):
    """Waveform (B, T) -> (B, 256): mel + dB inside, 3-conv stem, stages (3, 4, 6, 3)."""

    def __init__(self, seconds: float = 20.0, width: int = 16, sample_rate: int = 16000):
        super().__init__()
        n_fft, n_mels = 1024, 128
        with warnings.catch_warnings():  # its empty top mel bands (f_max 11025 Hz at 16 kHz)
            warnings.simplefilter("ignore", UserWarning)
            self.spec = torchaudio.transforms.MelSpectrogram(
                sample_rate=sample_rate, n_fft=n_fft, f_max=11025.0, n_mels=n_mels, normalized=True
            )
        self.to_db = torchaudio.transforms.AmplitudeToDB(top_db=100)
        half = width // 2
        self.stem = nn.Sequential(
            nn.Conv2d(1, half, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(half),
            nn.ReLU(inplace=True),
            nn.Conv2d(half, half, 3, padding=1, bias=False),
            nn.BatchNorm2d(half),
            nn.ReLU(inplace=True),
            nn.Conv2d(half, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.AvgPool2d(2),
        )
        blocks, inplanes = [], width
        for i, depth in enumerate((3, 4, 6, 3)):
            planes = width * 2**i
            for j in range(depth):
                blocks.append(Bottleneck(inplanes, planes, 2 if i and not j else 1))
                inplanes = planes * Bottleneck.expansion
        self.layers = nn.Sequential(*blocks)
        # The original sizes its table from the clip length: (T // hop + 1) // 32 frames.
        frames = (int(seconds * sample_rate) // (n_fft // 2) + 1) // 32
        self.attnpool = AttentionPool2d((n_mels // 32) * frames + 1, inplanes, 8, 256)
        self.output_dim = 256

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        x = self.to_db(self.spec(wave)).unsqueeze(1)
        return self.attnpool(self.layers(self.stem(x)))


class EinsumAttention(nn.Module):
    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.scale = heads, (width // heads) ** -0.5
        self.to_qkv = nn.Linear(width, 3 * width, bias=False)
        self.out_projection = nn.Linear(width, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        q, k, v = (
            t.unflatten(-1, (self.heads, -1)).transpose(1, 2) for t in self.to_qkv(x).chunk(3, -1)
        )
        scores = torch.einsum("bhid,bhjd->bhij", q, k) * self.scale + mask
        weights = self.dropout(scores.softmax(dim=-1))
        out = torch.einsum("bhij,bhjd->bhid", weights, v).transpose(1, 2).flatten(2)
        return self.out_projection(out)


class OriginalTextTower(nn.Module):
    """Token ids (B, 77) -> (B, 512): 4 pre-LN blocks, additive causal mask, EOT pooling."""

    def __init__(self, vocab: int = 49408, width: int = 512, layers: int = 4, heads: int = 8):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, width)
        self.position_embedding = nn.Embedding(CONTEXT_LENGTH, width)
        self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(2 * layers))
        self.attns = nn.ModuleList(EinsumAttention(width, heads, 0.2) for _ in range(layers))
        self.ffs = nn.ModuleList(
            nn.Sequential(
                nn.Linear(width, 4 * width), nn.GELU(), nn.Dropout(0.2), nn.Linear(4 * width, width)
            )
            for _ in range(layers)
        )
        self.norm_out = nn.LayerNorm(width)
        self.ln_final = nn.LayerNorm(width)  # built, counted, never called (as in the original)
        self.output_dim = width

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        batch, length = ids.shape
        x = self.token_embedding(ids) + self.position_embedding(
            torch.arange(length, device=ids.device)
        )
        # (B, 1, L, L) of -inf above the diagonal, made on the host, then copied.
        mask = torch.full((batch, length, length), float("-inf")).triu_(1).unsqueeze(1)
        mask = mask.to(x.device)
        for i, (attn, ff) in enumerate(zip(self.attns, self.ffs, strict=True)):
            x = attn(self.norms[2 * i](x), mask) + x
            x = ff(self.norms[2 * i + 1](x)) + x
        x = self.norm_out(x)
        return x[torch.arange(batch), ids.argmax(dim=-1)]


class OriginalMusCALL(nn.Module):
    """The two towers, bias-free projections to 512 and a learned log logit scale."""

    def __init__(self, seconds: float = 20.0, width: int = 16, text_width: int = 512, layers=4):
        super().__init__()
        # The defaults are the paper's; smaller sizes serve `bench/run.py --quick` only.
        self.audio_backbone = OriginalAudioTower(seconds, width)
        self.textual_head = OriginalTextTower(width=text_width, layers=layers)
        self.audio_projection = nn.Linear(256, 512, bias=False)
        self.text_projection = nn.Linear(text_width, 512, bias=False)
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))

    def forward(self, wave: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """-> the CLIP loss of the batch."""
        audio = self.audio_projection(self.audio_backbone(wave))
        text = self.text_projection(self.textual_head(ids))
        audio = audio / audio.norm(dim=-1, keepdim=True)
        text = text / text.norm(dim=-1, keepdim=True)
        per_text = self.logit_scale.exp() * text @ audio.T
        labels = torch.arange(len(per_text), device=per_text.device)
        return (F.cross_entropy(per_text, labels) + F.cross_entropy(per_text.T, labels)) / 2


class OriginalTrainer:
    """One training step as the original's trainer takes it."""

    def __init__(self, model: OriginalMusCALL, amp: bool):
        self.model = model
        # AdamW as the original builds it: every parameter decayed, PyTorch's default kernel.
        self.optimizer = torch.optim.AdamW(
            model.parameters(), lr=5e-5, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.2
        )
        self.amp = amp  # its default on a GPU: fp16 autocast with a GradScaler
        self.scaler = torch.amp.GradScaler("cuda", enabled=amp)

    def step(self, wave: torch.Tensor, ids: torch.Tensor) -> float:
        self.model.train()
        with torch.autocast("cuda", dtype=torch.float16, enabled=self.amp):
            loss = self.model(wave, ids)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.model.logit_scale.item() > math.log(100):  # a host-device sync every step
            self.model.logit_scale.data.clamp_(max=math.log(100))
        self.optimizer.zero_grad()
        return loss.item()

    @torch.no_grad()
    def encode_audio(self, wave: torch.Tensor) -> torch.Tensor:
        self.model.eval()
        return self.model.audio_projection(self.model.audio_backbone(wave))

    @torch.no_grad()
    def encode_text(self, ids: torch.Tensor) -> torch.Tensor:
        self.model.eval()
        return self.model.text_projection(self.model.textual_head(ids))
