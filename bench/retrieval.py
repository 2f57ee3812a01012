"""Retrieval evaluation time and peak memory at 1k, 10k and 100k items, against a baseline.

    python bench/retrieval.py [--sizes 1000 10000 100000] [--baseline-max 10000] [--out PATH]

Synthetic unit-norm 512-d audio and caption embeddings (one caption per track, as MusicCaps).
Each size times: the similarity matmul alone (the floor), `retrieval_metrics`, and the
previous implementation (masks and top-k over every row; kept below as the baseline, run in
the same process, alternating) up to `--baseline-max` items. Peak memory is the process's
resident high-water mark measured in a fresh subprocess per size and implementation.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from muscall.evaluate.ranking import RetrievalRanks, retrieval_metrics, summarise_ranks  # noqa: E402


def baseline_metrics(audio_emb, text_emb, owner, chunk_size=1024):
    """The implementation before this benchmark: a (c, N) relevance mask and two top-k per row."""
    audio_ids = torch.arange(audio_emb.shape[0])
    text = _baseline_rank(text_emb, owner, audio_emb, audio_ids, chunk_size)
    captioned = torch.unique(owner)
    audio = _baseline_rank(audio_emb[captioned], captioned, text_emb, owner, chunk_size)
    ranks = RetrievalRanks(
        ranks={"text_to_audio": text[0], "audio_to_text": audio[0]},
        ap={"text_to_audio": text[1], "audio_to_text": audio[1]},
    )
    return summarise_ranks(ranks)


def _baseline_rank(queries, query_ids, gallery, gallery_ids, chunk_size, depth=10):
    ranks, aps = [], []
    for start in range(0, queries.shape[0], chunk_size):
        scores = queries[start : start + chunk_size] @ gallery.T
        relevant = query_ids[start : start + chunk_size, None] == gallery_ids[None, :]
        best = scores.masked_fill(~relevant, float("-inf")).amax(dim=1, keepdim=True)
        ranks.append(1 + ((scores >= best) & ~relevant).sum(dim=1))
        num_relevant = relevant.sum(dim=1, keepdim=True)
        k = min(depth, int(num_relevant.max()))
        best_rel = scores.masked_fill(~relevant, float("-inf")).topk(k, dim=1).values
        irrelevant = scores.masked_fill(relevant, float("-inf"))
        best_irr = irrelevant.topk(min(depth, scores.shape[1]), dim=1).values
        above = (best_irr[:, None, :] >= best_rel[:, :, None]).sum(dim=2)
        order = torch.arange(1, k + 1)
        position = order + above
        counted = (order <= num_relevant) & (position <= depth)
        precision = torch.where(counted, order / position.double(), 0.0)
        aps.append(precision.sum(dim=1) / num_relevant.squeeze(1).clamp(max=depth))
    return torch.cat(ranks), torch.cat(aps)


def embeddings(n: int, dim: int = 512, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    audio = F.normalize(torch.randn(n, dim, generator=gen), dim=-1)
    text = F.normalize(audio + 0.8 * torch.randn(n, dim, generator=gen) / dim**0.5 * 4, dim=-1)
    return audio, text, torch.arange(n)


def matmul_only(audio, text, chunk_size=1024):
    for start in range(0, len(text), chunk_size):
        text[start : start + chunk_size] @ audio.T
    for start in range(0, len(audio), chunk_size):
        audio[start : start + chunk_size] @ text.T


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def peak_rss_mb(kind: str, n: int) -> float:
    """Peak resident memory of a fresh process that runs one evaluation of `kind` at `n`."""
    code = (
        "import sys, resource; sys.argv=['x']; "
        f"sys.path.insert(0, {str(Path(__file__).parent)!r}); import retrieval as b; "
        f"a, t, o = b.embeddings({n}); "
        f"({'b.retrieval_metrics' if kind == 'new' else 'b.baseline_metrics'})(a, t, o); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--baseline-max", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "retrieval-cpu.json"
    )
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        audio, text, owner = embeddings(n)
        with_baseline = n <= args.baseline_max
        times = {"matmul": [], "new": [], "baseline": []}
        for _ in range(args.repeats if n < 100000 else 1):  # alternating, same process
            times["matmul"].append(timed(matmul_only, audio, text))
            times["new"].append(timed(retrieval_metrics, audio, text, owner))
            if with_baseline:
                times["baseline"].append(timed(baseline_metrics, audio, text, owner))
        if with_baseline:
            assert retrieval_metrics(audio, text, owner) == baseline_metrics(audio, text, owner)
        row = {"items": n, **{f"{k}_seconds": min(v) for k, v in times.items() if v}}
        row["new_over_matmul"] = row["new_seconds"] / row["matmul_seconds"]
        row["new_peak_rss_mb"] = peak_rss_mb("new", n)
        # The targets: within twice the matmul's time and 4 GB of memory.
        row["meets_targets"] = row["new_over_matmul"] <= 2.0 and row["new_peak_rss_mb"] <= 4096
        if with_baseline:
            row["speedup_over_baseline"] = row["baseline_seconds"] / row["new_seconds"]
            row["baseline_peak_rss_mb"] = peak_rss_mb("baseline", n)
        rows.append(row)
        print(json.dumps(row))
    result = {
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
        "torch": torch.__version__,
        "rows": rows,
        "peak_rss_note": f"maxrss of a fresh process (self: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{'items':>8} {'matmul s':>9} {'eval s':>8} {'eval/matmul':>11} {'baseline s':>10} {'peak MB':>8}"
    )
    for r in rows:
        print(
            f"{r['items']:>8} {r['matmul_seconds']:>9.2f} {r['new_seconds']:>8.2f} "
            f"{r['new_over_matmul']:>11.2f} {r.get('baseline_seconds', float('nan')):>10.2f} "
            f"{r['new_peak_rss_mb']:>8.0f}"
        )
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
