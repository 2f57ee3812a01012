"""What long captions cost the text tower: old limit against new, short captions against long.

    python bench/captions.py [--csv musiccaps-public.csv] [--rounds 5] [--batch-size 32]

For each model option, its text encoder's forward and backward on a batch of token ids, timed
in one process, alternating round by round: built-in-style captions (muscall.synth) and
MusicCaps-length ones (the published captions with --csv, else tests/helpers/long_captions.py),
each tokenized at the option's old limit and at its new one. Batches are padded to their
longest caption, so short captions cost the same at both limits. Medians, on the CPU; writes
bench/results/captions-cpu.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from hydra.utils import instantiate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
from tests.data.long_captions import LONG_CAPTIONS  # noqa: E402

from muscall.config import compose_config, go_offline  # noqa: E402
from muscall.synth.attributes import sample_attributes  # noqa: E402
from muscall.synth.captions import sentence_caption  # noqa: E402
from muscall.synth.styles import GENRES  # noqa: E402

go_offline()

OUT = ROOT / "bench" / "results" / "captions-cpu.json"
# (model option, the key that sets its text limit, the limit before, the limit now)
CASES = (
    ("cpu", "model.net.text_encoder.context_length", 32, 128),
    ("muscall", "model.net.text_encoder.context_length", 77, 128),
    ("minilm", "model.net.tokenizer.max_length", 64, 256),
)


def short_captions(count: int = 256) -> list[str]:
    rng = np.random.default_rng(0)
    return [
        sentence_caption(sample_attributes(rng, GENRES[i % len(GENRES)]), rng) for i in range(count)
    ]


def long_captions(path: Path | None) -> tuple[list[str], str]:
    if path is None:
        return list(LONG_CAPTIONS), "tests/helpers/long_captions.py"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row["caption"].strip() for row in csv.DictReader(handle)]
    return [r for r in rows if r], path.name


def text_tower(model: str, key: str, limit: int):
    """The option's text encoder (train mode) and tokenizer at `limit`."""
    cfg = compose_config([f"model={model}", f"{key}={limit}"])
    torch.manual_seed(0)
    return instantiate(cfg.model.net.text_encoder).train(), instantiate(cfg.model.net.tokenizer)


def step_seconds(encoder, tokens: dict) -> float:
    """Forward and backward of the text encoder on one batch of token ids."""
    encoder.zero_grad(set_to_none=True)
    start = time.perf_counter()
    text_emb = torch.nn.functional.normalize(encoder(tokens), dim=-1)  # (B, W)
    (text_emb @ text_emb.T).logsumexp(dim=-1).mean().backward()
    return time.perf_counter() - start


def run_case(case, sets: dict, batch_size: int, rounds: int) -> dict:
    model, key, old, new = case
    towers = {limit: text_tower(model, key, limit) for limit in (old, new)}
    times = {f"{s}@{limit}": [] for s in sets for limit in towers}
    padded = {name: [] for name in times}
    draw = random.Random(0)
    for round_index in range(rounds + 1):  # round 0 warms up
        for set_name, captions in sets.items():
            batch = draw.choices(captions, k=batch_size)
            for limit, (encoder, tokenizer) in towers.items():
                tokens = tokenizer(batch)
                seconds = step_seconds(encoder, tokens)
                if round_index:
                    times[f"{set_name}@{limit}"].append(seconds)
                    padded[f"{set_name}@{limit}"].append(tokens["input_ids"].shape[1])
    median_ms = {name: 1000 * statistics.median(t) for name, t in times.items()}
    return {
        "model": model,
        "limit_key": key,
        "old_limit": old,
        "new_limit": new,
        "median_ms": median_ms,
        "median_padded_tokens": {name: statistics.median(p) for name, p in padded.items()},
        "new_over_old": {s: median_ms[f"{s}@{new}"] / median_ms[f"{s}@{old}"] for s in sets},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--models", nargs="+", default=[c[0] for c in CASES])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    long, source = long_captions(args.csv)
    sets = {"short": short_captions(), "musiccaps": long}
    result = {
        "device": "cpu",
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
        "torch": torch.__version__,
        "precision": "fp32",
        "batch_size": args.batch_size,
        "rounds": args.rounds,
        "captions": {"short": "muscall.synth sentence captions", "musiccaps": source},
        "cases": [],
    }
    for case in (c for c in CASES if c[0] in args.models):
        row = run_case(case, sets, args.batch_size, args.rounds)
        result["cases"].append(row)
        print(json.dumps(row))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
