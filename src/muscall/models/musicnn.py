"""musicnn (Pons & Serra, 2019) in PyTorch: a musically motivated CNN over 96-band log-mels.

Front end: timbral filters (7 frames x 38 and x 67 mel bands) and temporal filters (128, 64 and
32 frames x 1 band), each max-pooled over frequency -> 561 channels per frame. Mid end: three
7-tap 1-D convolutions of 64 channels, the last two residual, densely concatenated -> 753.
Back end: max and mean over time (interleaved, 1506), dense 200, dense 50 tags. Every layer is
convolution (or dense), ReLU, then batch norm (eps 1e-3), as in the TF1 original; weights come
from its checkpoints (muscall.models.musicnn_weights), names mapped in `_LAYOUT`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from muscall.models.musicnn_frontend import N_MELS

BN_EPS = 1e-3  # tf.compat.v1.layers.batch_normalization's default
BN_MOMENTUM = 0.01  # TF's 0.99 decay, in torch's convention
TIMBRAL = ((7, 38, 204), (7, 67, 204))  # (frames, mel bands, filters): 0.4 and 0.7 x 96 bands
TEMPORAL = ((128, 51), (64, 51), (32, 51))  # (frames, filters)
MIDEND_CHANNELS = 64
FRONT_CHANNELS = sum(f for *_, f in TIMBRAL) + sum(f for _, f in TEMPORAL)  # 561
MAP_CHANNELS = FRONT_CHANNELS + 3 * MIDEND_CHANNELS  # 753
POOLED_DIM = 2 * MAP_CHANNELS  # 1506


def _bn(channels: int, dims: int = 1) -> nn.Module:
    kind = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
    return kind(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


def _same_time_pad(frames: int) -> tuple[int, int, int, int]:
    """TF's "same" padding of a stride-1 kernel: the odd pixel goes after (63 | 64 for 128)."""
    before = (frames - 1) // 2
    return (0, 0, before, frames - 1 - before)  # F.pad order: (freq, freq, time, time)


class MusicnnBody(nn.Module):
    """Log-mel (B, 1, 96, frames) -> mid-end map (B, 753, frames) -> pooled (B, 1506)."""

    def __init__(self):
        super().__init__()
        self.input_bn = _bn(1, dims=2)
        self.timbral = nn.ModuleList(nn.Conv2d(1, f, (t, m)) for t, m, f in TIMBRAL)
        self.temporal = nn.ModuleList(nn.Conv2d(1, f, (t, 1)) for t, f in TEMPORAL)
        self.front_bn = nn.ModuleList(_bn(f, dims=2) for *_, f in (*TIMBRAL, *TEMPORAL))
        widths = (FRONT_CHANNELS, MIDEND_CHANNELS, MIDEND_CHANNELS)
        self.midend = nn.ModuleList(nn.Conv1d(w, MIDEND_CHANNELS, 7, padding=3) for w in widths)
        self.midend_bn = nn.ModuleList(_bn(MIDEND_CHANNELS) for _ in widths)
        self.pool_bn = _bn(POOLED_DIM)
        self.output_dim = POOLED_DIM

    def front_end(self, mel: torch.Tensor) -> torch.Tensor:
        """(B, 1, 96, frames) -> (B, 561, frames): each filter's maximum over frequency."""
        if mel.ndim != 4 or mel.shape[1:3] != (1, N_MELS):
            raise ValueError(f"musicnn expects a log-mel (B, 1, {N_MELS}, frames), got {mel.shape}")
        x = self.input_bn(mel.transpose(2, 3))  # (B, 1, frames, 96): TF's (time, freq) layout
        maps = []
        for conv in self.timbral:
            maps.append(conv(F.pad(x, (0, 0, 3, 3))))  # (B, f, frames, 96 - m + 1)
        for conv in self.temporal:
            maps.append(conv(F.pad(x, _same_time_pad(conv.kernel_size[0]))))  # (B, f, frames, 96)
        pooled = [bn(F.relu(m)).amax(dim=3) for m, bn in zip(maps, self.front_bn, strict=True)]
        return torch.cat(pooled, dim=1)

    def feature_map(self, mel: torch.Tensor) -> torch.Tensor:
        """(B, 1, 96, frames) -> the mid end's dense concatenation (B, 753, frames)."""
        front = self.front_end(mel)
        layers = [front]
        x = front
        for i, (conv, bn) in enumerate(zip(self.midend, self.midend_bn, strict=True)):
            out = bn(F.relu(conv(x)))
            x = out if i == 0 else out + x  # the second and third are residual
            layers.append(x)
        return torch.cat(layers, dim=1)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        feature_map = self.feature_map(mel)  # (B, 753, frames)
        # TF concatenates [max, mean] on a trailing axis and flattens: interleaved per channel.
        pooled = torch.stack([feature_map.amax(dim=2), feature_map.mean(dim=2)], dim=2)
        return self.pool_bn(pooled.flatten(1))  # (B, 1506)


class MusicnnTagger(nn.Module):
    """Log-mel (B, 1, 96, frames) -> 50 tag logits (B, 50): musicnn's whole network."""

    def __init__(self, num_tags: int = 50, hidden: int = 200):
        super().__init__()
        self.body = MusicnnBody()
        self.dense = nn.Linear(POOLED_DIM, hidden)
        self.dense_bn = _bn(hidden)
        self.tags = nn.Linear(hidden, num_tags)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.tags(self.dense_bn(F.relu(self.dense(self.body(mel)))))


# TF1 variable scopes in creation order: (torch module path, TF layer name).
_LAYOUT = (
    ("input_bn", "batch_normalization"),
    ("timbral.0", "conv2d"),
    ("timbral.1", "conv2d_1"),
    *((f"temporal.{i}", f"conv2d_{i + 2}") for i in range(3)),
    *((f"front_bn.{i}", f"batch_normalization_{i + 1}") for i in range(5)),
    *((f"midend.{i}", f"conv2d_{i + 5}") for i in range(3)),
    *((f"midend_bn.{i}", f"batch_normalization_{i + 6}") for i in range(3)),
    ("pool_bn", "batch_normalization_9"),
)
_HEAD_LAYOUT = (
    ("dense", "dense"),
    ("dense_bn", "batch_normalization_10"),
    ("tags", "dense_1"),
)
_BN_NAMES = {
    "weight": "gamma",
    "bias": "beta",
    "running_mean": "moving_mean",
    "running_var": "moving_variance",
}


def _torch_kernel(kernel: np.ndarray, module: nn.Module) -> np.ndarray:
    """A TF kernel (HWIO conv, (in, out) dense) in the layout of `module`'s weight."""
    if isinstance(module, nn.Linear):
        return kernel.T
    if isinstance(module, nn.Conv1d):  # TF ran it as a 2-D conv whose width is all channels
        return kernel[:, :, 0, :].transpose(2, 1, 0)  # (7, in, 1, out) -> (out, in, 7)
    return kernel.transpose(3, 2, 0, 1)  # (H, W, in, out) -> (out, in, H, W)


def _tf_state(module: nn.Module, layout, tensors: dict[str, np.ndarray]) -> dict:
    state = {}
    for path, scope in layout:
        layer = module.get_submodule(path)
        if isinstance(layer, nn.modules.batchnorm._BatchNorm):
            for ours, theirs in _BN_NAMES.items():
                state[f"{path}.{ours}"] = tensors[f"{scope}/{theirs}"]
        else:
            state[f"{path}.weight"] = _torch_kernel(tensors[f"{scope}/kernel"], layer)
            state[f"{path}.bias"] = tensors[f"{scope}/bias"]
    return state


def load_tf_tensors(module: MusicnnBody | MusicnnTagger, tensors: dict[str, np.ndarray]) -> None:
    """Copy musicnn's TF variables into a body or a whole tagger; every shape must match."""
    if isinstance(module, MusicnnTagger):
        state = {f"body.{k}": v for k, v in _tf_state(module.body, _LAYOUT, tensors).items()}
        state.update(_tf_state(module, _HEAD_LAYOUT, tensors))
    else:
        state = _tf_state(module, _LAYOUT, tensors)
    ours = module.state_dict()
    for name, value in state.items():
        if tuple(ours[name].shape) != value.shape:
            raise ValueError(
                f"{name}: musicnn has {value.shape}, the port {tuple(ours[name].shape)}"
            )
    missing = [k for k in ours if k not in state and not k.endswith("num_batches_tracked")]
    if missing:
        raise ValueError(f"no musicnn tensor for {missing}")
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}
    module.load_state_dict(tensors, strict=False)


def pretrained_tagger(name: str) -> MusicnnTagger:
    """musicnn's whole network with checkpoint `name` ("msd" or "mtt"), in eval mode."""
    from muscall.models.musicnn_weights import load_musicnn_tensors

    tagger = MusicnnTagger()
    load_tf_tensors(tagger, load_musicnn_tensors(name))
    return tagger.eval()
