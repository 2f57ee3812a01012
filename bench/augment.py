"""Cost of each training-time augmentation against a training step, written as JSON.

    python bench/augment.py [--cases cpu:32:6 muscall:16:20] [--rounds 5] [--device auto]

Each case is model:batch:seconds. In one process, alternating round by round: a plain training
step (forward, InfoNCE, backward, AdamW), the same step with conf/augment/default.yaml, with
the SSL branch on top, and every transform alone at its configured p and at p = 1. Medians.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from torch_audiomentations import AddColoredNoise

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from muscall.config import compose_config, go_offline  # noqa: E402
from muscall.losses import InfoNCE  # noqa: E402

go_offline()

CAPTION = "an upbeat rock song with distorted electric guitar, bass and energetic drums"
# PitchShift at p = 1 takes seconds a batch on a CPU: timed fewer times than the rest.
SLOW = {"pitch"}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _once(fn, device: torch.device) -> float:
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


def _module(model: str, ssl_weight: float, device: torch.device):
    cfg = compose_config([f"model={model}", "augment=default", f"model.ssl_weight={ssl_weight}"])
    module = instantiate(cfg.model, loss=InfoNCE(), metadata={}).to(device).train()
    return module, cfg


def _step_fn(module, wave, tokens, augment, ssl: bool, amp: bool):
    """One optimiser step of the training loss as MusCALLModule.training_step computes it."""
    net = module.net
    params = list(net.parameters()) + (list(module.ssl_head.parameters()) if ssl else [])
    optimizer = torch.optim.AdamW(params, lr=1e-5)

    def encode_view():  # (B, E), not normalised
        if augment is None:
            return net.encode_audio(wave, normalize=False)
        view = augment.augment_wave(wave)
        return net.encode_audio(view, normalize=False, spec_augment=augment.augment_spec)

    def step():
        with torch.autocast(wave.device.type, dtype=torch.bfloat16, enabled=amp):
            audio_emb = encode_view()
            scale = net.logit_scale.exp()
            loss = module.loss_fn(F.normalize(audio_emb, dim=-1), net.encode_text(tokens), scale)
            if ssl:
                heads = module.ssl_head(audio_emb), module.ssl_head(encode_view())
                loss = (1 - module.ssl_weight) * loss + module.ssl_weight * module.ssl_loss_fn(
                    *heads
                )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def bench_case(model: str, batch: int, seconds: float, rounds: int, device) -> dict:
    amp = device.type == "cuda"
    module, cfg = _module(model, 0.3, device)
    samples = int(seconds * cfg.data.sample_rate)
    wave = 0.1 * torch.randn(batch, samples, device=device)
    tokens = {k: v.to(device) for k, v in module.net.tokenize([CAPTION] * batch).items()}
    augment = module.augment
    with torch.no_grad():
        mel = module.net.frontend(wave)
    timed = {
        "step": _step_fn(module, wave, tokens, None, ssl=False, amp=amp),
        "step+augment": _step_fn(module, wave, tokens, augment, ssl=False, amp=amp),
        "step+augment+ssl": _step_fn(module, wave, tokens, augment, ssl=True, amp=amp),
        "chain": lambda: (augment.augment_wave(wave), augment.augment_spec(mel)),
    }
    for group, source in (("wave", wave), ("spec", mel)):
        for name, transform in getattr(augment, group).items():
            always = copy.deepcopy(transform)
            always.p = 1.0
            timed[f"{name} (p={transform.p:g})"] = (lambda t, x: lambda: t(x))(
                transform, source.unsqueeze(1) if group == "wave" else source
            )
            timed[f"{name} (p=1)"] = (lambda t, x: lambda: t(x))(
                always, source.unsqueeze(1) if group == "wave" else source
            )
    # torch-audiomentations' coloured noise, which the default chain replaces: the comparison.
    ours = augment.wave["noise"]
    library_noise = AddColoredNoise(
        *ours.snr_db, *ours.f_decay, p=1.0, sample_rate=cfg.data.sample_rate, output_type="dict"
    )
    timed["noise, torch-audiomentations (p=1)"] = lambda: library_noise(wave.unsqueeze(1))
    for fn in timed.values():  # warm-up: allocations, first-call set-up
        fn()
    times: dict[str, list[float]] = {name: [] for name in timed}
    for round_ in range(rounds):
        for name, fn in timed.items():
            if name.split(" ")[0] in SLOW and "p=1" in name and round_ >= 1:
                continue
            times[name].append(_once(fn, device))
    ms = {name: 1000 * statistics.median(t) for name, t in times.items()}
    step = ms["step"]
    return {
        "model": model,
        "batch_size": batch,
        "clip_seconds": seconds,
        "median_ms": ms,
        "percent_of_step": {name: 100 * v / step for name, v in ms.items() if name != "step"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["cpu:32:6", "muscall:16:20"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    device = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    )
    torch.manual_seed(0)
    cases = []
    for case in args.cases:
        model, batch, seconds = case.split(":")
        cases.append(bench_case(model, int(batch), float(seconds), args.rounds, device))
        print(json.dumps(cases[-1], indent=2), flush=True)
    result = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "cpu": platform.processor() or platform.machine(),
        "cpu_threads": torch.get_num_threads(),
        "precision": "bf16-mixed" if device.type == "cuda" else "fp32",
        "torch": torch.__version__,
        "cases": cases,
    }
    out = Path(args.out or Path(__file__).parent / "results" / f"augment-{device.type}.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
