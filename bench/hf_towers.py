"""Training-step time and peak memory of base-size Hugging Face towers, written as JSON.

    python bench/hf_towers.py [--cases wav2vec2-base roberta-base] [--batch 8] [--steps 2]

Nothing is downloaded: each tower is built at random from its published base config
(transformers' defaults for Wav2Vec2Config and RobertaConfig are the base models), saved
with a feature extractor or a BPE tokenizer into a temporary folder, and loaded through
model/audio@model.net=hf or model/text@model.net=hf with pretrained=false. The other side is
model=cpu's. A step is the training step: forward, InfoNCE, backward, fused AdamW. Each case
runs in its own process, so its peak resident memory is its own.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from muscall.config import compose_config, go_offline  # noqa: E402

go_offline()

CAPTION = "an upbeat rock song with distorted electric guitar, bass and energetic drums"
CASES = {
    "wav2vec2-base": "audio",
    "roberta-base": "text",
}


def _save_wav2vec2_base(folder: Path) -> None:
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor

    Wav2Vec2Config().save_pretrained(folder)
    Wav2Vec2FeatureExtractor(sampling_rate=16000, do_normalize=True).save_pretrained(folder)


def _save_roberta_base(folder: Path) -> None:
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig, RobertaTokenizer

    RobertaConfig(max_position_embeddings=514).save_pretrained(folder)
    bpe = ByteLevelBPETokenizer()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    bpe.train_from_iterator([CAPTION] * 4, vocab_size=300, special_tokens=specials)
    vocab, merges = bpe.save_model(str(folder))
    RobertaTokenizer(vocab=vocab, merges=merges, model_max_length=512).save_pretrained(folder)


def _overrides(case: str, folder: Path) -> list[str]:
    side = CASES[case]
    tower = "audio_encoder" if side == "audio" else "text_encoder"
    return [
        "model=cpu",
        f"model/{side}@model.net=hf",
        f"model.net.{tower}.name_or_path={folder}",
        f"model.net.{tower}.pretrained=false",
    ]


def run_case(case: str, batch: int, seconds: float, steps: int, device: str) -> dict:
    """One case in this process: build, warm up once, time `steps` training steps."""
    from hydra.utils import instantiate

    from muscall.losses import InfoNCE

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (_save_wav2vec2_base if case == "wav2vec2-base" else _save_roberta_base)(folder)
        cfg = compose_config(_overrides(case, folder))
        module = instantiate(cfg.model, loss=InfoNCE(), metadata={}).to(device).train()
    net = module.net
    tower = net.audio_encoder if CASES[case] == "audio" else net.text_encoder
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-5, fused=True)
    wave = torch.randn(batch, int(seconds * net.frontend.sample_rate), device=device) * 0.1
    tokens = {k: v.to(device) for k, v in net.tokenize([CAPTION] * batch).items()}

    def step() -> tuple[float, float]:
        start, cpu_start = time.perf_counter(), time.process_time()
        audio_emb, text_emb, scale = net(wave, tokens)
        module.loss_fn(audio_emb, text_emb, scale).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start, time.process_time() - cpu_start

    step()  # warm-up: allocations, oneDNN kernels
    times, cpu_times = zip(*(step() for _ in range(steps)), strict=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    return {
        "case": case,
        "side": CASES[case],
        "tower_parameters_millions": sum(p.numel() for p in tower.parameters()) / 1e6,
        "batch_size": batch,
        "clip_seconds": seconds,
        "text_tokens": int(tokens["input_ids"].shape[1]),
        "step_seconds": list(times),
        "median_step_seconds": statistics.median(times),
        # CPU time of all this process's threads: what a busy machine changes least.
        "step_cpu_seconds": list(cpu_times),
        "median_step_cpu_seconds": statistics.median(cpu_times),
        "pairs_per_second": batch / statistics.median(times),
        "peak_rss_mib": peak,
        **(
            {"peak_cuda_mib": torch.cuda.max_memory_allocated() / 2**20} if device == "cuda" else {}
        ),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/hf-towers-cpu.json")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one case, print JSON
    args = parser.parse_args(argv)
    common = ["--batch", str(args.batch), "--seconds", str(args.seconds)]
    common += ["--steps", str(args.steps), "--device", args.device]
    if args.one:
        print(json.dumps(run_case(args.one, args.batch, args.seconds, args.steps, args.device)))
        return {}
    rows = []
    for case in args.cases:
        done = subprocess.run(
            [sys.executable, __file__, "--one", case, *common],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"{case}: {row['median_step_seconds']:.2f} s/step "
            f"({row['median_step_cpu_seconds']:.2f} s CPU), peak {row['peak_rss_mib']:.0f} MiB"
        )
    result = {
        "device": args.device,
        "cpu": platform.machine(),
        "cpu_threads": torch.get_num_threads(),
        "precision": "fp32",
        "torch": torch.__version__,
        "note": "random init from each base config, nothing downloaded; the other side is "
        "model=cpu's; 2-core VM shared with other agents (loaded)",
        "cases": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
