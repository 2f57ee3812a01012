"""`make bench-gpu`: one prepared run on a GPU machine, within 8 minutes, every figure to JSON.

    python bench/gpu.py [--budget-s 450] [--out-dir bench/results]
    python bench/gpu.py --dry-run   # on a CPU: tiny sizes, every stage's code exercised

Stages, each skipped once the budget is spent (the summary says which ran):
1. every GPU-marked test (`pytest -m gpu`);
2. ours against the paired original (bench/run.py): batch 256, 20 s clips, ours bf16-mixed,
   the original fp16 autocast, and the model FLOPs utilisation;
3. the largest batch whose training step fits, without chunks and with model.grad_cache_chunk
   (model=muscall, 20 s clips, bf16 autocast), doubling until the device runs out of memory;
4. with more than one GPU, NCCL DDP steps with and without chunks, 256 pairs per GPU.

Writes bench/results/{speed,grad-cache,bench}-gpu-<device>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT / "src")]
import grad_cache as cache_bench  # noqa: E402  (bench/grad_cache.py)

FULL = {"model": "muscall", "seconds": 20.0, "batch": 256, "chunk": 256, "ddp_chunk": 64}
FULL.update(plain_cap=16384, cached_cap=65536, search_s=110.0, rounds=4)
DRY = {"model": "tiny", "seconds": 0.25, "batch": 4, "chunk": 4, "ddp_chunk": 2}
DRY.update(plain_cap=16, cached_cap=32, search_s=60.0, rounds=1)


def run_gpu_tests(dry: bool) -> dict:
    # A dry run only collects (on a CPU every GPU test is skipped anyway).
    command = [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider"]
    command += ["--co", "tests/lightning/test_grad_cache.py"] if dry else ["tests"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    lines = done.stdout.strip().splitlines()
    return {"returncode": done.returncode, "summary": lines[-1] if lines else done.stderr[-500:]}


def run_speed(sizes: dict, device: str, out: Path) -> dict:
    """bench/run.py: ours against the paired original, as `make bench` runs it."""
    import run as speed_bench  # bench/run.py

    argv = ["--device", device, "--batch-sizes", str(sizes["batch"]), "--out", str(out)]
    argv += ["--quick"] if device == "cpu" else ["--seconds", str(sizes["seconds"])]
    argv += ["--rounds", str(sizes["rounds"])]
    result = speed_bench.main(argv)
    return {"file": out.name, "train": result["train"], "mfu": result.get("mfu")}


def _step_fits(sizes: dict, device: str, batch: int, chunk: int | None) -> dict:
    """One warm-up and one timed training step at `batch`; 'oom' when it does not fit."""
    row = {"batch_size": batch, "chunk": chunk}
    try:
        module, optimizer, data = cache_bench.build(
            sizes["model"], batch, sizes["seconds"], chunk, device
        )
        amp = torch.device(device).type == "cuda"
        _reset_peak(device)
        seconds = []
        for _ in range(2):
            start = time.perf_counter()
            with torch.autocast(torch.device(device).type, torch.bfloat16, enabled=amp):
                cache_bench.train_step(module, optimizer, data)
            _sync(device)
            seconds.append(time.perf_counter() - start)
        row.update(fits=True, step_seconds=seconds[-1], pairs_per_second=batch / seconds[-1])
        row["peak_memory_gb"] = _peak_gb(device)
    except torch.OutOfMemoryError:
        row["fits"] = False
    finally:
        module = optimizer = data = None
        _free(device)
    return row


def largest_batches(sizes: dict, device: str) -> dict:
    """Doubling from the paper's 256 until a step does not fit, the cap or the time budget."""
    result = {}
    for label, chunk, cap in (
        ("plain", None, sizes["plain_cap"]),
        ("cached", sizes["chunk"], sizes["cached_cap"]),
    ):
        rows, batch, start = [], sizes["batch"], time.perf_counter()
        while batch <= cap and time.perf_counter() - start < sizes["search_s"]:
            rows.append(_step_fits(sizes, device, batch, chunk))
            if not rows[-1]["fits"]:
                break
            batch *= 2
        fitted = [r["batch_size"] for r in rows if r["fits"]]
        result[label] = {"chunk": chunk, "rows": rows, "largest": max(fitted, default=None)}
        result[label]["stopped_by"] = _stopped_by(rows, cap, batch)
    return result


def _stopped_by(rows: list[dict], cap: int, batch: int) -> str:
    if rows and not rows[-1]["fits"]:
        return "out of memory"
    return "cap" if batch > cap else "time budget"


class _TrainingStep(nn.Module):
    """The module's training step as the forward DDP wraps (Lightning's arrangement)."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, batch: dict) -> torch.Tensor:
        return self.module.training_step(batch, 0)


def _ddp_worker(rank: int, world: int, port: int, sizes: dict, backend: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    device = f"cuda:{rank}" if backend == "nccl" else "cpu"
    if backend == "nccl":
        torch.cuda.set_device(rank)
    else:  # forked: one thread each, never entering the parent's OpenMP pool
        torch.set_num_threads(1)
    dist.init_process_group(backend, rank=rank, world_size=world, timeout=timedelta(seconds=120))
    rows = {}
    for label, chunk in (("plain", None), ("cached", sizes["ddp_chunk"])):
        module, optimizer, data = cache_bench.build(
            sizes["model"], sizes["batch"], sizes["seconds"], chunk, device
        )
        module.setup("fit")  # the global batch's gather
        ids = [rank] if backend == "nccl" else None
        step = nn.parallel.DistributedDataParallel(_TrainingStep(module), device_ids=ids)
        seconds = []
        for _ in range(3):
            start = time.perf_counter()
            with torch.autocast(device.split(":")[0], torch.bfloat16, enabled=backend == "nccl"):
                loss = step(data)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            _sync(device)
            seconds.append(time.perf_counter() - start)
        rows[label] = {"chunk": chunk, "step_seconds": seconds[1:]}
        module.teardown("fit")
    if rank == 0:
        Path(out).write_text(json.dumps(rows))
    dist.destroy_process_group()


def run_ddp(sizes: dict, world: int, backend: str) -> dict:
    import tempfile

    import torch.multiprocessing as mp

    out = Path(tempfile.mkdtemp()) / "ddp.json"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    method = "spawn" if backend == "nccl" else "fork"  # CUDA cannot be forked
    args = (world, port, sizes, backend, str(out))
    mp.start_processes(_ddp_worker, args, nprocs=world, start_method=method)
    rows = json.loads(out.read_text())
    global_batch = sizes["batch"] * world
    for row in rows.values():
        row["global_pairs_per_second"] = global_batch / min(row["step_seconds"])
    return {"backend": backend, "world_size": world, "pairs_per_device": sizes["batch"], **rows}


def _sync(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def _reset_peak(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def _peak_gb(device: str) -> float | None:
    if torch.device(device).type != "cuda":
        return None
    return torch.cuda.max_memory_allocated(device) / 2**30


def _free(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.empty_cache()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny sizes: a smoke test")
    parser.add_argument("--budget-s", type=float, default=450.0, help="stop starting stages")
    parser.add_argument("--out-dir", type=Path, default=BENCH / "results")
    parser.add_argument("--only", nargs="*", default=None, help="run these stages alone")
    args = parser.parse_args(argv)
    if not args.dry_run and not torch.cuda.is_available():
        raise SystemExit("bench/gpu.py needs a CUDA device (or --dry-run on a CPU)")
    sizes, device = (DRY, "cpu") if args.dry_run else (FULL, "cuda")
    name = "dryrun-cpu" if args.dry_run else torch.cuda.get_device_name().lower().replace(" ", "-")
    gpus = 2 if args.dry_run else torch.cuda.device_count()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if device == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed crops, as conf/trainer/gpu.yaml
    start, summary = time.perf_counter(), {"device": name, "gpus": gpus, "stages": {}}
    stages = [
        ("gpu_tests", lambda: run_gpu_tests(args.dry_run)),
        ("speed", lambda: run_speed(sizes, device, args.out_dir / f"speed-gpu-{name}.json")),
        ("largest_batch", lambda: largest_batches(sizes, device)),
    ]
    if gpus > 1:
        backend = "gloo" if args.dry_run else "nccl"
        stages.append(("ddp", lambda: run_ddp(sizes, gpus, backend)))
    results = {}
    for stage, fn in stages:
        if args.only is not None and stage not in args.only:
            continue
        if time.perf_counter() - start > args.budget_s:
            summary["stages"][stage] = "skipped: budget spent"
            continue
        began = time.perf_counter()
        results[stage] = fn()
        summary["stages"][stage] = f"ran in {time.perf_counter() - began:.0f} s"
        print(f"{stage}: {summary['stages'][stage]}", flush=True)
    summary["seconds"] = time.perf_counter() - start
    cache = {k: results[k] for k in ("largest_batch", "ddp") if k in results}
    cache.update(device=name, model=sizes["model"], clip_seconds=sizes["seconds"])
    (args.out_dir / f"grad-cache-gpu-{name}.json").write_text(json.dumps(cache, indent=2) + "\n")
    summary.update({k: results[k] for k in ("gpu_tests", "speed") if k in results})
    (args.out_dir / f"bench-gpu-{name}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
