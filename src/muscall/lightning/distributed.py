"""Collectives across the processes of a multi-device run, in rank order: the training loss's
gathers and the evaluation outputs'.

Module-level functions rather than closures, so a module holding them still pickles
(ddp_spawn, checkpoints of the whole object).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from typing import Any

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn
from pytorch_lightning.utilities.warnings import PossibleUserWarning


def spans_devices() -> bool:
    """Whether this process is one of several in an initialised process group."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's place in the gathers below."""
    return dist.get_rank()


def all_gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Every process's (B, ...) tensor, concatenated (W·B, ...); the backward sums, into each
    process's rows, the gradient every process sends them. Shapes must agree across processes."""
    return torch.cat(dist_fn.all_gather(tensor), dim=0)


@torch.no_grad()
def all_gather_without_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Every process's (B, ...) tensor, concatenated (W·B, ...), detached."""
    tensor = tensor.contiguous()
    parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, tensor)
    return torch.cat(parts, dim=0)


def gather_objects(obj: Any) -> list[Any]:
    """Every process's picklable `obj`, by rank; sizes may differ. Synchronises with the host."""
    gathered: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, obj)
    return gathered


def gather_eval_outputs(outputs: dict[str, list]) -> dict[str, list]:
    """Every process's evaluation outputs as one process's: each key's lists joined in rank
    order, and the per-track rows (`index`, `audio_emb`, `captions`) of a repeated track once."""
    shards = gather_objects(outputs)
    merged = {key: [item for shard in shards for item in shard[key]] for key in outputs}
    if not merged["index"]:
        return merged
    index = torch.cat(merged["index"])
    # A padding sampler (Lightning's default DistributedSampler) repeats tracks to even out the
    # shards; counted twice they would skew the metrics.
    first, seen = [], set()
    for row, i in enumerate(index.tolist()):
        if i not in seen:
            seen.add(i)
            first.append(row)
    merged["index"] = [index[first]]
    merged["audio_emb"] = [torch.cat(merged["audio_emb"])[first]]
    merged["captions"] = [merged["captions"][row] for row in first]
    return merged


@torch.no_grad()
def broadcast_buffers(module: torch.nn.Module) -> None:
    """Rank 0's buffers (BatchNorm running statistics, ...) on every process."""
    for buffer in module.buffers():
        dist.broadcast(buffer, src=0)


def hush_sync_advice(names: Iterable[str]) -> None:
    """Silence Lightning's advice to log these epoch-level values with sync_dist: they are
    already the same, global values on every process, and a mean over processes is no better."""
    for name in names:
        advice = f"It is recommended to use `self.log({name!r}, ..., sync_dist=True)`"
        warnings.filterwarnings("ignore", re.escape(advice), PossibleUserWarning)
