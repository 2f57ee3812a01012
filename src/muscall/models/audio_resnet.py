"""CLIP's modified ResNet for 1-channel spectrograms of any frequency x time size."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def _conv_bn_relu(in_ch: int, out_ch: int, stride: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    ]


def _blur_pool(stride: int) -> nn.Module:
    # ceil_mode keeps a size-1 axis at size 1, so short clips or few mels never pool to zero.
    return nn.AvgPool2d(stride, ceil_mode=True) if stride > 1 else nn.Identity()


class Bottleneck(nn.Module):
    """1x1 -> 3x3 -> (avgpool) -> 1x1 bottleneck; strides by pooling first (anti-aliased)."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        out = planes * self.expansion
        self.branch = nn.Sequential(
            nn.Conv2d(inplanes, planes, 1, bias=False),
            nn.BatchNorm2d(planes),
            nn.ReLU(inplace=True),
            *_conv_bn_relu(planes, planes),
            _blur_pool(stride),
            nn.Conv2d(planes, out, 1, bias=False),
            nn.BatchNorm2d(out),
        )
        # Zero-init the last BN so each block starts as the identity: stabler early training.
        nn.init.zeros_(self.branch[-1].weight)
        self.downsample = nn.Identity()
        if stride > 1 or inplanes != out:
            self.downsample = nn.Sequential(
                _blur_pool(stride), nn.Conv2d(inplanes, out, 1, bias=False), nn.BatchNorm2d(out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.branch(x) + self.downsample(x))


def _resize(table: torch.Tensor, size: int) -> torch.Tensor:
    """Linearly resample a (N, C) table of learned positions to (size, C)."""
    if table.shape[0] == size:
        return table
    resized = F.interpolate(table.T[None], size=size, mode="linear", align_corners=False)
    return resized[0].T


class AttentionPool(nn.Module):
    """One attention read-out over the (F x T) grid, queried by the grid's mean.

    Positions are factorised into a learned frequency table and a learned time table, each
    linearly resampled to the grid: a mel band keeps its meaning (a fraction of the mel range)
    when n_mels changes, a time step its relative place in the clip when the clip length
    changes, and no 2-D table has to be stretched across aspect ratios it never saw.
    """

    def __init__(
        self, channels: int, heads: int, output_dim: int, freq_positions: int, time_positions: int
    ):
        super().__init__()
        if channels % heads:
            raise ValueError(f"audio encoder: {channels} channels do not split into {heads} heads")
        self.heads = heads
        std = channels**-0.5
        self.freq_embedding = nn.Parameter(torch.randn(freq_positions, channels) * std)
        self.time_embedding = nn.Parameter(torch.randn(time_positions, channels) * std)
        self.query_embedding = nn.Parameter(torch.randn(channels) * std)
        self.q_proj = nn.Linear(channels, channels)
        self.k_proj = nn.Linear(channels, channels)
        self.v_proj = nn.Linear(channels, channels)
        self.c_proj = nn.Linear(channels, output_dim)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(-1, (self.heads, -1)).transpose(1, 2)  # (B, N, C) -> (B, h, N, C/h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n_freq, n_time = x.shape[-2:]
        pos = _resize(self.freq_embedding, n_freq)[:, None] + _resize(self.time_embedding, n_time)
        grid = x.flatten(2).transpose(1, 2) + pos.flatten(0, 1)  # (B, F*T, C)
        query = x.mean(dim=(2, 3))[:, None] + self.query_embedding  # (B, 1, C)
        # As in CLIP, the mean token also attends to itself.
        context = torch.cat([query, grid], dim=1)  # (B, 1 + F*T, C)
        q = self._split(self.q_proj(query))  # (B, h, 1, C/h)
        k = self._split(self.k_proj(context))  # (B, h, 1 + F*T, C/h)
        v = self._split(self.v_proj(context))
        pooled = F.scaled_dot_product_attention(q, k, v)  # (B, h, 1, C/h)
        return self.c_proj(pooled.transpose(1, 2).flatten(1))  # (B, output_dim)


class AveragePool(nn.Module):
    """Feature map (B, C, F, T) -> (B, output_dim): the mean over the grid, then a linear map.

    MusCALL's alternative to attention pooling (its version broke at batch 1; this one does not).
    """

    def __init__(self, channels: int, output_dim: int):
        super().__init__()
        self.proj = nn.Linear(channels, output_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x.mean(dim=(2, 3)))


POOLINGS = ("attention", "average")


class ModifiedResNet(nn.Module):
    """Spectrogram (B, 1, F, T) -> (B, output_dim): 3-conv stem, 4 bottleneck stages, attn pool.

    The total stride is 32; `freq_positions` x `time_positions` are the sizes of the learned
    position tables (the default 4 x 20 is the grid of 128 mels x 20 s at hop 512, 16 kHz).
    `channels_last` runs the convolutions in NHWC, the same outputs to float rounding: this
    tower's forward + backward about 1.7x faster on a 2-core CPU (batch 16, 20 s; oneDNN) and
    the layout cuDNN's bf16 convolutions want.
    """

    def __init__(
        self,
        layers: Sequence[int] = (3, 4, 6, 3),
        width: int = 16,
        heads: int = 8,
        output_dim: int = 256,
        freq_positions: int = 4,
        time_positions: int = 20,
        pooling: str = "attention",
        channels_last: bool = True,
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"audio encoder pooling={pooling!r}: choose one of {POOLINGS}")
        if width % 2:
            raise ValueError(f"audio encoder width={width} must be even (the stem halves it)")
        if len(layers) != 4:
            raise ValueError(f"audio encoder layers={list(layers)} must list 4 stage depths")
        self.output_dim = output_dim
        self.stem = nn.Sequential(
            *_conv_bn_relu(1, width // 2, stride=2),
            *_conv_bn_relu(width // 2, width // 2),
            *_conv_bn_relu(width // 2, width),
            nn.AvgPool2d(2, ceil_mode=True),
        )
        stages, inplanes = [], width
        for i, depth in enumerate(layers):
            planes = width * 2**i
            blocks = [Bottleneck(inplanes, planes, stride=1 if i == 0 else 2)]
            inplanes = planes * Bottleneck.expansion
            blocks += [Bottleneck(inplanes, planes) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        # The name `attnpool` is kept for either pooling: checkpoints of attention pooling load.
        self.attnpool = (
            AttentionPool(inplanes, heads, output_dim, freq_positions, time_positions)
            if pooling == "attention"
            else AveragePool(inplanes, output_dim)
        )
        self.channels_last = channels_last
        if channels_last:
            # NHWC weights and input: the layout cuDNN's and oneDNN's fast convolutions want.
            self.to(memory_format=torch.channels_last)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            spec = spec.contiguous(memory_format=torch.channels_last)
        x = self.stem(spec)  # (B, width, F/4, T/4)
        x = self.stages(x)  # (B, 32·width, F/32, T/32)
        return self.attnpool(x)  # (B, output_dim)
