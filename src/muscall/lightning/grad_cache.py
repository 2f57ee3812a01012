"""Gradient caching (GradCache, Gao et al. 2021): a contrastive loss over a batch larger than
the activations that fit, for the memory of one chunk.

1. Embed the batch chunk by chunk without graphs, noting the random state before each chunk.
2. Score the loss on the whole batch of embeddings (gathered across devices if the loss does)
   and take its gradient with respect to every embedding and to the parameters the loss uses
   directly (the temperature, the SSL head).
3. Re-run each chunk with its graph, from the random state noted for it, so dropout and
   augmentation draw what they drew in step 1, and backpropagate the cached embedding
   gradients into the parameters.

The result equals running every chunk with its graph and backpropagating the whole loss: the
same loss, gradients and running statistics. BatchNorm normalises each chunk by its own
statistics, as it does each device's share under DDP without sync_batchnorm.

The parameter gradients reach the optimizer through the loss returned: its backward hands each
parameter its cached gradient (times the incoming gradient: a GradScaler's scale, 1 otherwise).
That backward is the one Lightning runs, so DDP averages those gradients once, gradient
accumulation adds them up and clipping sees them, as after an ordinary backward.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from muscall.errors import MuscallError

# One chunk of the batch's rows -> its embeddings, e.g. (audio_emb, text_emb), each (b, E).
Encode = Callable[[slice], tuple[torch.Tensor, ...]]
# The whole batch's embeddings, e.g. (audio_emb, text_emb) each (B, E) -> (loss, extras).
Loss = Callable[[tuple[torch.Tensor, ...]], tuple[torch.Tensor, Any]]


def chunk_size(chunk: int | None) -> int | None:
    """`model.grad_cache_chunk`, checked: pairs per chunk, or None (off)."""
    if chunk is None:
        return None
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise MuscallError(
            f"model.grad_cache_chunk={chunk}: a number of pairs per chunk (e.g. 64), or null for off"
        )
    return chunk


def check_precision(chunk: int | None, precision: str) -> None:
    """float16 needs loss scaling, which the cached embedding gradients would not get."""
    if chunk is not None and str(precision).startswith("16"):
        raise MuscallError(
            f"model.grad_cache_chunk={chunk} with trainer.precision={precision}: the cached "
            "gradients are not loss-scaled and would underflow in float16; use "
            "trainer.precision=bf16-mixed or 32-true"
        )


def cached_loss(
    encode: Encode,
    loss_fn: Loss,
    size: int,
    chunk: int,
    params: Sequence[nn.Parameter],
    stateful: nn.Module,
) -> tuple[torch.Tensor, Any]:
    """The batch's loss, whose backward gives `params` the whole batch's gradient; extras detached.

    `size` rows are encoded `chunk` at a time. `stateful` holds the buffers the encoders update
    (BatchNorm's running statistics): the replay in step 3 leaves them as step 1 set them.
    """
    rows = [slice(start, min(start + chunk, size)) for start in range(0, size, chunk)]
    states, parts = [], []
    with torch.no_grad():
        for part in rows:
            states.append(RandomState.capture())
            parts.append(encode(part))
    after = RandomState.capture()
    buffers = [buffer.clone() for buffer in stateful.buffers()]
    leaves = tuple(torch.cat(kind).requires_grad_() for kind in zip(*parts, strict=True))
    with torch.enable_grad():
        loss, extras = loss_fn(leaves)
    wanted = [p for p in params if p.requires_grad]
    grads = torch.autograd.grad(loss, [*leaves, *wanted], allow_unused=True)
    leaf_grads = grads[: len(leaves)]
    # Laid out as each parameter (channels_last included): what DDP's buckets expect.
    param_grads = [torch.zeros_like(p) for p in wanted]
    _add(param_grads, grads[len(leaves) :])
    for part, state in zip(rows, states, strict=True):
        state.restore()
        grad_outputs = [None if g is None else g[part] for g in leaf_grads]
        _backpropagate(encode, part, grad_outputs, wanted, param_grads)
    after.restore()  # the stream goes on as if the batch had been drawn once
    with torch.no_grad():
        for buffer, saved in zip(stateful.buffers(), buffers, strict=True):
            buffer.copy_(saved)
    return _CachedGradients.apply(loss.detach(), param_grads, *wanted), _detached(extras)


def _backpropagate(encode, part: slice, grad_outputs, params, param_grads: list) -> None:
    """Adds to `param_grads` the gradient that one chunk's embeddings pass to `params`."""
    with torch.enable_grad():
        outputs = encode(part)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs, strict=True) if g is not None]
    grads = torch.autograd.grad(
        [o for o, _ in pairs], params, [g for _, g in pairs], allow_unused=True
    )
    _add(param_grads, grads)


def _add(totals: list[torch.Tensor], grads) -> None:
    for total, grad in zip(totals, grads, strict=True):
        if grad is not None:
            total.add_(grad)


def _detached(extras: Any) -> Any:
    if isinstance(extras, dict):
        return {k: v.detach() if torch.is_tensor(v) else v for k, v in extras.items()}
    return extras


class _CachedGradients(torch.autograd.Function):
    """Returns the loss value; its backward gives each parameter its cached gradient."""

    @staticmethod
    def forward(ctx, loss: torch.Tensor, grads: list[torch.Tensor], *params: torch.Tensor):
        ctx.grads = grads
        return loss.clone()

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        grads, ctx.grads = ctx.grads, None  # once: a second backward has nothing to give
        return None, None, *(g * grad_output.to(g.dtype) for g in grads)


class RandomState:
    """torch's CPU generator and, when CUDA is in use, the current device's: what dropout and
    augmentation draw from (torch-audiomentations included)."""

    def __init__(self, cpu: torch.Tensor, cuda: torch.Tensor | None):
        self.cpu, self.cuda = cpu, cuda

    @classmethod
    def capture(cls) -> RandomState:
        cuda = torch.cuda.get_rng_state() if torch.cuda.is_initialized() else None
        return cls(torch.get_rng_state(), cuda)

    def restore(self) -> None:
        torch.set_rng_state(self.cpu)
        if self.cuda is not None:
            torch.cuda.set_rng_state(self.cuda)
