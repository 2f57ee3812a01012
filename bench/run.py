"""`make bench`: training and embedding speed against the original MusCALL, in one process.

    python bench/run.py [--batch-sizes 8 16] [--seconds 20] [--rounds 4] [--quick] [--out F]

Each round times a few training steps of the original's execution (bench/original_muscall.py)
and of this project's (the model config's network, loss, optimizer and its parameter groups),
alternating which goes first, so load from other processes hits both alike; the ratio is the
median of the rounds' paired ratios. Synthetic audio (as MusCALL's own measurement) and real
captions of about 15 tokens. CPU: fp32; CUDA: ours bf16 autocast (conf/trainer/gpu.yaml),
the original fp16 autocast with a GradScaler (its `amp: true`), batch 256, and the model FLOPs
utilisation. The latest bench/loading.py and bench/retrieval.py results join the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from hydra.utils import instantiate

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent / "src"), str(BENCH)]
from original_muscall import OriginalMusCALL, OriginalTrainer  # noqa: E402

from muscall.config import compose_config, go_offline  # noqa: E402
from muscall.models import ClipBPETokenizer  # noqa: E402

go_offline()

# Song-Describer-like captions, 7 to 24 CLIP tokens (mean about 15), cycled through batches.
CAPTIONS = [
    "an upbeat rock song with distorted electric guitar, bass and energetic drums",
    "calm solo piano piece",
    "a slow jazz ballad with brushed drums, upright bass and a soft saxophone melody",
    "lo-fi hip hop beat with vinyl crackle",
    "ambient synth pads that swell and fade over a quiet drone",
    "fast techno track with a pounding kick",
    "acoustic folk song with fingerpicked guitar and a gentle female voice singing about home",
    "orchestral film score with strings and brass",
    "a cheerful reggae groove",
    "heavy metal riff with double bass drums and screaming vocals",
    "dreamy indie pop with reverb-soaked guitars",
    "classical string quartet playing a melancholic slow movement in a minor key",
    "funky bass line and tight drums",
    "a country song with banjo, fiddle and a male vocalist telling a story",
    "minimal electronic piece with glitchy percussion",
    "latin percussion and brass in a lively salsa",
]
PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12}  # dense, SXM


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _seconds(fn, device: torch.device, steps: int) -> float:
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    _sync(device)
    return (time.perf_counter() - start) / steps


class Ours:
    """This project's training step as MusCALLModule takes it, minus Lightning's logging."""

    def __init__(self, model: str, device: torch.device, amp: bool):
        cfg = compose_config([f"model={model}", "augment=none"])
        self.module = instantiate(cfg.model, loss=instantiate(cfg.loss.criterion)).to(device)
        self.net, self.loss_fn, self.amp = self.module.net, self.module.loss_fn, amp
        self.optimizer = self.module.optimizer_factory(self.module._param_groups())
        self.sample_rate = cfg.data.sample_rate

    def tokens(self, captions, device):
        return {k: v.to(device) for k, v in self.net.tokenize(captions).items()}

    def step(self, wave: torch.Tensor, tokens: dict) -> None:
        self.net.train()
        with torch.autocast(wave.device.type, dtype=torch.bfloat16, enabled=self.amp):
            audio_emb = self.net.encode_audio(wave, normalize=False)
            text_emb = self.net.encode_text(tokens)
            loss = self.loss_fn(
                F.normalize(audio_emb, dim=-1), text_emb, self.net.logit_scale.exp()
            )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.net.clamp_logit_scale()

    @torch.inference_mode()
    def encode_audio(self, wave):
        self.net.eval()
        with torch.autocast(wave.device.type, dtype=torch.bfloat16, enabled=self.amp):
            return self.net.encode_audio(wave)

    @torch.inference_mode()
    def encode_captions(self, captions, device):
        self.net.eval()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.amp):
            return self.net.encode_text(self.tokens(captions, device))


class Original:
    """The original's step and inference, fed 77-token padded ids as its dataset makes them."""

    def __init__(self, quick: bool, seconds: float, device: torch.device, amp: bool):
        sizes = {"width": 8, "text_width": 32, "layers": 1} if quick else {}
        self.trainer = OriginalTrainer(OriginalMusCALL(seconds, **sizes).to(device), amp)
        self.tokenizer = ClipBPETokenizer(77, pad_to_longest=False)
        self.amp = amp

    def tokens(self, captions, device):
        return self.tokenizer(captions)["input_ids"].to(device)

    def step(self, wave, ids) -> None:
        self.trainer.step(wave, ids)

    def encode_audio(self, wave):
        with torch.autocast(wave.device.type, dtype=torch.float16, enabled=self.amp):
            return self.trainer.encode_audio(wave)

    def encode_captions(self, captions, device):
        with torch.autocast(device.type, dtype=torch.float16, enabled=self.amp):
            return self.trainer.encode_text(self.tokens(captions, device))


def _captions(batch: int, offset: int = 0) -> list[str]:
    return [CAPTIONS[(offset + i) % len(CAPTIONS)] for i in range(batch)]


def bench_train(systems: dict, device, batch: int, samples: int, rounds: int, steps: int) -> dict:
    wave = torch.randn(batch, samples, device=device) * 0.1
    tokens = {name: s.tokens(_captions(batch), device) for name, s in systems.items()}
    for name, system in systems.items():  # warm-up: allocations, kernel choice
        system.step(wave, tokens[name])
    times = {name: [] for name in systems}
    for r in range(rounds):
        order = list(systems) if r % 2 == 0 else list(systems)[::-1]
        for name in order:
            times[name].append(
                _seconds(lambda s=systems[name], t=tokens[name]: s.step(wave, t), device, steps)
            )
    ratios = [b / o for b, o in zip(times["original"], times["ours"], strict=True)]
    row = {"batch_size": batch, "text_tokens": {n: _length(t) for n, t in tokens.items()}}
    for name, seconds in times.items():
        row[f"{name}_step_seconds"] = seconds
        row[f"{name}_pairs_per_second"] = batch / statistics.median(seconds)
    row["speedup"] = statistics.median(ratios)  # median of the paired per-round ratios
    return row


def _length(tokens) -> int:
    ids = tokens["input_ids"] if isinstance(tokens, dict) else tokens
    return int(ids.shape[1])


def bench_embedding(systems: dict, device, batch: int, samples: int, rounds: int) -> dict:
    wave = torch.randn(batch, samples, device=device) * 0.1
    captions = _captions(batch, offset=3)
    row: dict = {"batch_size": batch}
    for name, system in systems.items():
        system.encode_audio(wave), system.encode_captions(captions, device)
        audio = [_seconds(lambda s=system: s.encode_audio(wave), device, 1) for _ in range(rounds)]
        text = [
            _seconds(lambda s=system: s.encode_captions(captions, device), device, 1)
            for _ in range(rounds)
        ]
        row[f"{name}_audio_clips_per_second"] = batch / statistics.median(audio)
        # Tokenization included: it is part of embedding a caption.
        row[f"{name}_captions_per_second"] = batch / statistics.median(text)
    return row


def model_flops_utilisation(ours: Ours, device, batch: int, samples: int, step_s: float) -> dict:
    """Achieved model FLOP/s (one step counted by FlopCounterMode) over the chip's bf16 peak."""
    from torch.utils.flop_counter import FlopCounterMode

    wave = torch.randn(batch, samples, device=device) * 0.1
    counter = FlopCounterMode(display=False)
    with counter:
        ours.step(wave, ours.tokens(_captions(batch), device))
    flops = counter.get_total_flops()
    name = torch.cuda.get_device_name(device)
    peak = next((v for k, v in PEAK_BF16_FLOPS.items() if k in name), None)
    achieved = flops / step_s
    return {
        "batch_size": batch,
        "flops_per_step": flops,
        "achieved_tflops": achieved / 1e12,
        "peak_bf16_tflops": peak / 1e12 if peak else None,
        "mfu": achieved / peak if peak else None,
    }


def _latest(pattern: str) -> dict | None:
    files = sorted((BENCH / "results").glob(pattern), key=lambda p: p.stat().st_mtime)
    return {"file": files[-1].name, **json.loads(files[-1].read_text())} if files else None


def print_table(result: dict) -> None:
    load = ", ".join(f"{v:.1f}" for v in result["load_average_1min"])
    print(
        f"\n{result['device']}, {result['cpu_threads']} threads, {result['precision']}, "
        f"{result['clip_seconds']:g} s clips, load average {load} (start, end)"
    )
    print(
        f"{'batch':>5} {'original pairs/s':>16} {'ours pairs/s':>12} {'ours/original':>13} tokens"
    )
    for r in result["train"]:
        tokens = f"{r['text_tokens']['original']} -> {r['text_tokens']['ours']}"
        print(
            f"{r['batch_size']:>5} {r['original_pairs_per_second']:>16.2f} "
            f"{r['ours_pairs_per_second']:>12.2f} {r['speedup']:>12.2f}x {tokens}"
        )
    e = result["embedding"]
    for kind in ("audio_clips", "captions"):
        print(
            f"embedding {kind.replace('_', ' ')}/s (batch {e['batch_size']}): "
            f"original {e[f'original_{kind}_per_second']:.1f}, ours {e[f'ours_{kind}_per_second']:.1f}"
        )
    if result.get("mfu"):
        m = result["mfu"]
        print(f"MFU at batch {m['batch_size']}: {m['mfu']}, {m['achieved_tflops']:.1f} TFLOP/s")
    loading = result.get("loading") or {}
    for row in loading.get("loading", []) if isinstance(loading.get("loading"), list) else []:
        print(
            f"data loading, {row.get('source')}, {row.get('workers')} workers: "
            f"{row.get('clips_per_second', float('nan')):.0f} clips/s ({loading['file']})"
        )
    if result.get("retrieval"):
        for row in result["retrieval"].get("rows", []):
            print(
                f"retrieval eval, {row['items']:>6} items: {row['new_seconds']:.2f} s "
                f"({row['new_over_matmul']:.2f}x its matmul), peak {row['new_peak_rss_mb']:.0f} "
                f"MB ({result['retrieval']['file']})"
            )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="muscall")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None)
    parser.add_argument("--seconds", type=float, default=20.0)
    # One step per timing, many rounds: each pair of timings is close in time, so a load that
    # comes and goes hits both systems of a round alike.
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=1, help="training steps per timing")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--quick", action="store_true", help="tiny models, 1 round: a smoke test")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    auto = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(auto if args.device == "auto" else args.device)
    amp = device.type == "cuda"
    if args.quick:
        args.model, args.seconds, args.rounds, args.steps = "tiny", 4.0, 1, 1
    batches = args.batch_sizes or ([2, 4] if args.quick else [64, 256] if amp else [8, 16])
    if amp:
        torch.backends.cudnn.benchmark = True  # fixed 20 s crops: let cuDNN pick conv kernels
    systems = {
        "original": Original(args.quick, args.seconds, device, amp),
        "ours": Ours(args.model, device, amp),
    }
    samples = int(args.seconds * systems["ours"].sample_rate)
    name = torch.cuda.get_device_name(device) if amp else platform.processor() or "cpu"
    result = {
        "model": args.model,
        "parameters_millions": {
            "original": sum(p.numel() for p in systems["original"].trainer.model.parameters())
            / 1e6,
            "ours": sum(p.numel() for p in systems["ours"].net.parameters()) / 1e6,
        },
        "clip_seconds": args.seconds,
        "device": name,
        "cpu_threads": torch.get_num_threads(),
        "precision": "ours bf16-mixed, original fp16 autocast" if amp else "fp32",
        "rounds": args.rounds,
        "steps_per_timing": args.steps,
        "torch": torch.__version__,
        "load_average_1min": [os.getloadavg()[0]],  # other processes on the machine
        "train": [
            bench_train(systems, device, b, samples, args.rounds, args.steps) for b in batches
        ],
        "embedding": bench_embedding(systems, device, max(batches), samples, max(args.rounds, 2)),
        "loading": _latest("loading-*.json"),
        "retrieval": _latest("retrieval-*.json"),
    }
    result["load_average_1min"].append(os.getloadavg()[0])
    if amp:
        step_s = statistics.median(result["train"][-1]["ours_step_seconds"])
        result["mfu"] = model_flops_utilisation(
            systems["ours"], device, batches[-1], samples, step_s
        )
    slug = "gpu-" + name.lower().replace(" ", "-") if amp else "cpu"
    out = args.out or BENCH / "results" / f"speed-{slug}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print_table(result)
    print(f"-> {out}")
    return result


if __name__ == "__main__":
    main()
