"""`make bench`: training and inference speed of a model config, written as JSON.

    python bench/run.py [--model muscall] [--batch-sizes 8 16] [--seconds 20] [--device auto]

Synthetic input (like MusCALL's own measurement), so the figures measure the model, not I/O.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch
from hydra.utils import instantiate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from muscall.config import compose_config, go_offline  # noqa: E402
from muscall.losses import InfoNCE  # noqa: E402

go_offline()  # before a text encoder imports transformers, which reads the variables once

CAPTION = "an upbeat rock song with distorted electric guitar, bass and energetic drums"


def _net(model: str):
    cfg = compose_config([f"model={model}"])
    return instantiate(cfg.model.net), cfg


def _timed(fn, device, repeats: int) -> float:
    fn()  # warm-up: allocations, cuDNN autotuning
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def bench_train(net, device, batch: int, samples: int, repeats: int, amp: bool) -> dict:
    loss_fn = InfoNCE()
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-5)
    wave = torch.randn(batch, samples, device=device) * 0.1
    tokens = {k: v.to(device) for k, v in net.tokenize([CAPTION] * batch).items()}

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = loss_fn(*net(wave, tokens))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    net.train()
    seconds = _timed(step, device, repeats)
    return {"batch_size": batch, "step_seconds": seconds, "pairs_per_second": batch / seconds}


@torch.inference_mode()
def bench_inference(net, device, batch: int, samples: int, repeats: int) -> dict:
    net.eval()
    wave = torch.randn(batch, samples, device=device) * 0.1
    audio_s = _timed(lambda: net.encode_audio(wave), device, repeats)
    text_s = _timed(lambda: net.embed_text([CAPTION] * batch, batch_size=batch), device, repeats)
    return {
        "batch_size": batch,
        "audio_clips_per_second": batch / audio_s,
        "captions_per_second": batch / text_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="muscall")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    device = torch.device(
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    amp = device.type == "cuda"
    net, cfg = _net(args.model)
    net.to(device)
    samples = int(args.seconds * cfg.data.sample_rate)
    result = {
        "model": args.model,
        "parameters_millions": sum(p.numel() for p in net.parameters()) / 1e6,
        "clip_seconds": args.seconds,
        "device": torch.cuda.get_device_name(device) if amp else platform.processor() or "cpu",
        "cpu_threads": torch.get_num_threads(),
        "precision": "bf16-mixed" if amp else "fp32",
        "torch": torch.__version__,
        "train": [
            bench_train(net, device, b, samples, args.repeats, amp) for b in args.batch_sizes
        ],
        "inference": [
            bench_inference(net, device, b, samples, args.repeats) for b in args.batch_sizes
        ],
    }
    out = Path(args.out or Path(__file__).parent / "results" / f"{args.model}-{device.type}.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
