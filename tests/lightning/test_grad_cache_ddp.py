"""Two gloo processes, each caching gradients over chunks of its share, against one process
holding the whole global batch: the loss and every parameter's gradient after DDP's average.

The module's wiring (gather, local_loss, the global batch's content weights) and the test
network are test_distributed.py's; the training step runs inside a DDP forward and its loss's
backward is the one DDP reduces, as under Lightning's DDP strategy.
"""

from __future__ import annotations

import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from muscall.lightning import grad_cache

from .test_distributed import (
    HANG,
    MODES,
    PAIRS,
    TOL,
    WORLD,
    _approx,
    _free_port,
    _global_batch,
    _module,
    _reference,
)

# 1 divides each process's 3 pairs; 2 leaves a chunk of 1.
CHUNKS = (1, 2)


class CachedStep(nn.Module):
    """The module's training step with gradient caching, as the forward DDP wraps."""

    def __init__(self, module, rank: int):
        super().__init__()
        self.module = module
        audio_x, text_x, captions = _global_batch()
        mine = slice(rank * PAIRS, (rank + 1) * PAIRS)
        self.audio_x, self.text_x, self.captions = audio_x[mine], text_x[mine], captions[mine]

    def encode(self, rows: slice):
        net = self.module.net
        return net.audio(self.audio_x[rows]), net.text(self.text_x[rows])

    def loss(self, embeddings):
        audio_emb, text_emb = (F.normalize(e, dim=-1) for e in embeddings)
        scale = self.module.net.logit_scale.exp()
        return self.module._loss({"caption": self.captions}, audio_emb, text_emb, scale), {}

    def forward(self, chunk: int) -> torch.Tensor:
        loss, _ = grad_cache.cached_loss(
            self.encode, self.loss, PAIRS, chunk, list(self.module.parameters()), self.module
        )
        return loss


def _cached_step(rank: int, chunk: int, local_loss: bool, weighted: bool) -> dict:
    module = _module(local_loss, weighted)
    module.setup("fit")
    step = DistributedDataParallel(CachedStep(module, rank))
    loss = step(chunk)
    loss.backward()
    module.teardown("fit")
    return {"loss": loss.item(), "params": {n: p.grad for n, p in module.net.named_parameters()}}


def _worker(rank: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD, timeout=HANG)
    try:
        steps = {(c, *mode): _cached_step(rank, c, *mode) for c in CHUNKS for mode in MODES}
        torch.save(steps, os.path.join(out, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("ranks")
    mp.start_processes(_worker, (_free_port(), str(out)), nprocs=WORLD, start_method="fork")
    return [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(WORLD)]


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize("local_loss,weighted", MODES)
def test_chunks_on_two_processes_equal_one_process_with_the_whole_batch(
    ranks, chunk, local_loss, weighted
):
    reference = _reference(weighted)
    steps = [r[(chunk, local_loss, weighted)] for r in ranks]
    losses = [s["loss"] for s in steps]
    if local_loss:  # each process its share of the global loss
        assert sum(losses) / WORLD == pytest.approx(reference["loss"], **_approx())
    else:
        assert losses == pytest.approx([reference["loss"]] * WORLD, **_approx())
    for step in steps:  # DDP has averaged the cached gradients: the global batch's gradient
        assert step["params"].keys() == reference["params"].keys()
        for name, grad in step["params"].items():
            assert reference["params"][name].abs().max() > 1e-3
            torch.testing.assert_close(grad, reference["params"][name], **TOL)
