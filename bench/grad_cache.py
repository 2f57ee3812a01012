"""Gradient caching (model.grad_cache_chunk): peak memory and step time against batch size.

    python bench/grad_cache.py [--model tiny] [--seconds 0.5] [--chunk 64]
        [--plain 64 256 1024] [--cached 256 1024 4096] [--rounds 6] [--out F]

Each (batch, chunk) configuration runs in a fresh process, so one's freed memory never hides
the next one's peak: the module and the batch are built, then training steps run (the module's
training_step, backward, fused AdamW), after one warm-up step on 2 pairs. Peak memory is the process's peak resident set (VmHWM)
less its resident set before the first step: what the step itself needs, the batch already
loaded. Then, in this process, grad caching off against the step as it was before it existed
(the same ops written out), alternating which goes first in each round: the median of the
paired ratios says what the off switch costs.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from hydra.utils import instantiate

BENCH = Path(__file__).resolve().parent
# bench/ first: `run` is bench/run.py, not src/run.py.
sys.path[:0] = [str(BENCH), str(BENCH.parent / "src")]
from muscall.config import compose_config, go_offline  # noqa: E402
from run import CAPTIONS  # noqa: E402

go_offline()


def build(model: str, batch: int, seconds: float, chunk: int | None, device="cpu"):
    """The module (augment=none, plain InfoNCE), its optimizer and a synthetic batch."""
    cfg = compose_config([f"model={model}", "augment=none"])
    torch.manual_seed(0)
    loss = instantiate(cfg.loss.criterion)
    module = instantiate(cfg.model, loss=loss, grad_cache_chunk=chunk, metadata={})
    module = module.to(device).train()
    optimizer = module.optimizer_factory(module._param_groups())
    module.log = lambda *args, **kwargs: None  # no trainer: logging is Lightning's, not timed
    module.optimizers = lambda: optimizer
    captions = [CAPTIONS[i % len(CAPTIONS)] for i in range(batch)]
    samples = int(seconds * cfg.data.sample_rate)
    batch = {
        "audio": 0.1 * torch.randn(batch, samples, device=device),
        "caption": captions,
        "tokens": {k: v.to(device) for k, v in module.net.tokenizer(captions).items()},
    }
    return module, optimizer, batch


def train_step(module, optimizer, batch, step=None) -> None:
    loss = (step or module.training_step)(batch, 0)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    module.net.clamp_logit_scale()


def previous_step(module, batch, batch_idx):
    """MusCALLModule.training_step before grad caching, without the SSL branch (off here)."""
    audio_emb = module._encode_view(batch["audio"])
    text_emb = module.net.encode_text(batch["tokens"])
    logit_scale = module.net.logit_scale.exp()
    loss = module._loss(batch, F.normalize(audio_emb, dim=-1), text_emb, logit_scale)
    size = audio_emb.shape[0]
    module.log("train/loss", loss, prog_bar=module._loss_in_bar(), batch_size=size)
    module.log("train/logit_scale", logit_scale, batch_size=size)
    module.log("train/lr", module.optimizers().param_groups[0]["lr"], batch_size=size)
    return loss


def _kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _trim() -> None:
    """Hands freed heap back to the system, so the resident set counts live memory only."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def measure_one(model: str, batch: int, seconds: float, chunk: int | None, steps: int) -> dict:
    """In this (fresh) process: the step's peak memory and its time."""
    module, optimizer, data = build(model, batch, seconds, chunk)
    # Lazy initialisation (kernels, allocator pools) on a batch of 2 first: not the step's.
    _, _, small = build(model, 2, seconds, chunk)
    train_step(module, optimizer, small)
    del small
    _trim()
    before = _kib("VmRSS")
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        train_step(module, optimizer, data)
        times.append(time.perf_counter() - start)
    peak = _kib("VmHWM")
    return {
        "batch_size": batch,
        "chunk": chunk,
        "steps": steps,
        "step_seconds": times,
        "pairs_per_second": batch / min(times),
        "rss_before_step_mb": before / 1024,
        "peak_rss_mb": peak / 1024,
        "step_peak_mb": (peak - before) / 1024,
    }


def measure_loss(batch: int, dim: int) -> dict:
    """InfoNCE alone, forward and backward, on `batch` random pairs: its (B, B) logits."""
    from muscall.losses import InfoNCE

    audio_emb = torch.randn(batch, dim, requires_grad=True)
    text_emb = torch.randn(batch, dim, requires_grad=True)
    _trim()
    before = _kib("VmRSS")
    loss = InfoNCE()(F.normalize(audio_emb, dim=-1), F.normalize(text_emb, dim=-1), 10.0)
    torch.autograd.grad(loss, [audio_emb, text_emb])
    return {"batch_size": batch, "embed_dim": dim, "loss_peak_mb": (_kib("VmHWM") - before) / 1024}


# Large blocks from mmap, returned when freed: the high-water mark is the step's own.
_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "0"}


def _child(arguments: list[str]) -> dict:
    command = [sys.executable, __file__, *arguments]
    env = {**os.environ, **_MALLOC}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_config(args, batch: int, chunk: int | None) -> dict:
    arguments = ["--one", str(batch), str(chunk or 0), "--model", args.model]
    row = _child([*arguments, "--seconds", str(args.seconds), "--steps", str(args.steps)])
    print(
        f"batch {batch:>5} chunk {str(chunk):>4}: step peak {row['step_peak_mb']:7.0f} MB, "
        f"{min(row['step_seconds']):6.2f} s/step",
        flush=True,
    )
    return row


def off_costs(args) -> dict:
    """Grad caching off against the step before it existed, paired and alternating."""
    module, optimizer, batch = build(args.model, args.off_batch, args.seconds, None)
    steps = {
        "off": lambda: train_step(module, optimizer, batch),
        "before": lambda: train_step(
            module, optimizer, batch, lambda b, i: previous_step(module, b, i)
        ),
    }
    for fn in steps.values():
        fn()  # warm-up
    times = {name: [] for name in steps}
    for r in range(args.rounds):
        for name in list(steps) if r % 2 == 0 else list(steps)[::-1]:
            start = time.perf_counter()
            steps[name]()
            times[name].append(time.perf_counter() - start)
    ratios = [o / b for o, b in zip(times["off"], times["before"], strict=True)]
    return {
        "batch_size": args.off_batch,
        "off_step_seconds": times["off"],
        "before_step_seconds": times["before"],
        "off_over_before_median": statistics.median(ratios),
        "paired_ratios": ratios,
    }


def fits(rows: list[dict]) -> dict:
    """The largest batch of each kind within the step memory of the largest plain batch."""
    plain = [r for r in rows if r["chunk"] is None]
    budget = max(plain, key=lambda r: r["batch_size"]) if plain else None
    if budget is None:
        return {}
    within = [r for r in rows if r["step_peak_mb"] <= budget["step_peak_mb"]]
    return {
        "budget": f"the step peak of batch {budget['batch_size']} without chunks",
        "budget_mb": budget["step_peak_mb"],
        "largest_plain_batch": max(r["batch_size"] for r in within if r["chunk"] is None),
        "largest_cached_batch": max(
            (r["batch_size"] for r in within if r["chunk"] is not None), default=None
        ),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--chunk", type=int, default=64)
    parser.add_argument("--plain", type=int, nargs="*", default=[64, 256])
    parser.add_argument("--cached", type=int, nargs="*", default=[256, 1024, 2048])
    parser.add_argument("--steps", type=int, default=1, help="training steps per configuration")
    parser.add_argument("--rounds", type=int, default=6, help="paired rounds of off vs before")
    parser.add_argument("--off-batch", type=int, default=64)
    parser.add_argument("--loss-batches", type=int, nargs="*", default=[1024, 2048, 4096])
    parser.add_argument("--one", type=int, nargs=2, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--loss-only", type=int, nargs=2, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "grad-cache-cpu.json")
    args = parser.parse_args(argv)
    if args.one:  # a child process: one configuration, one JSON line
        batch, chunk = args.one
        print(json.dumps(measure_one(args.model, batch, args.seconds, chunk or None, args.steps)))
        return {}
    if args.loss_only:
        print(json.dumps(measure_loss(*args.loss_only)))
        return {}
    load = [os.getloadavg()[0]]
    dim = compose_config([f"model={args.model}"]).model.net.embed_dim
    losses = [_child(["--loss-only", str(b), str(dim)]) for b in args.loss_batches]
    rows = [run_config(args, b, None) for b in args.plain]
    rows += [run_config(args, b, args.chunk) for b in args.cached]
    result = {
        "machine": f"{platform.machine()} {platform.processor() or 'cpu'}, {os.cpu_count()} cores",
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "model": args.model,
        "clip_seconds": args.seconds,
        "precision": "fp32",
        "memory": "peak resident set of a fresh process during its steps, less before them",
        "rows": rows,
        "fits": fits(rows),
        "loss_alone": losses,
        "off_costs": off_costs(args),
    }
    result["load_average_1min"] = [*load, os.getloadavg()[0]]  # other processes (start, end)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        json.dumps(result["fits"]),
        f"off/before {result['off_costs']['off_over_before_median']:.3f}",
    )
    print(f"-> {args.out}")
    return result


if __name__ == "__main__":
    main()
