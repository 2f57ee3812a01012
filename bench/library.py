"""Library index and search speed: indexing throughput, query latency, FAISS recall, disk size.

    python bench/library.py [--files 40] [--sizes 1000 10000 100000] [--out PATH]

(a) task=index throughput on `--files` 30-second stereo 44.1 kHz MP3s (written with
soundfile), decoded in the main process vs on every core, by a randomly initialised
model=cpu checkpoint (decoding and windowing cost the same as a trained one's).
(b) single-query latency, text embedding plus search, exact and FAISS, on synthetic unit-norm
embeddings with cluster structure (a low-rank mixture: random vectors have no neighbours
for an approximate index to find, real embeddings do). (c) FAISS recall@10 against exact
search on the same data. (d) bytes on disk per 1,000 tracks, with and without the graph.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from hydra.utils import instantiate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from muscall.config import compose_config, go_offline  # noqa: E402

go_offline()

import muscall  # noqa: E402
from muscall.checkpoint import checkpoint_metadata  # noqa: E402
from muscall.library import faiss_search  # noqa: E402
from muscall.library.build import update_index  # noqa: E402
from muscall.library.index import Entry, LibraryIndex  # noqa: E402

QUERIES = ["warm jazz piano trio", "distorted guitars and pounding drums", "a calm ambient pad"]


def random_checkpoint(path: Path) -> Path:
    cfg = compose_config(["model=cpu"])
    net = instantiate(cfg.model.net)
    state = {f"net.{k}": v for k, v in net.state_dict().items()}
    torch.save({"state_dict": state, "muscall": checkpoint_metadata(cfg)}, path)
    return path


def write_mp3s(folder: Path, count: int, seconds: float = 30.0, rate: int = 44100) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * rate)) / rate
    for i in range(count):
        freqs = 110.0 * 2 ** (rng.integers(0, 36, size=3) / 12)
        wave = sum(np.sin(2 * np.pi * f * t) for f in freqs) / 6 + 0.02 * rng.standard_normal(
            t.size
        )
        stereo = np.stack([wave, np.roll(wave, 100)], axis=1).astype(np.float32)
        path = folder / f"album{i % 4}" / f"track{i:03d}.mp3"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, stereo, rate, format="MP3")


def bench_indexing(model, folder: Path, work: Path, count: int) -> list[dict]:
    rows = []
    for workers in (0, os.cpu_count() or 1):
        index_dir = work / f"index-{workers}"
        start = time.perf_counter()
        index, _ = update_index(model, folder, index_dir, workers=workers, progress=False)
        seconds = time.perf_counter() - start
        assert len(index) == count
        rows.append({"workers": workers, "files": count, "seconds": seconds,
                     "files_per_second": count / seconds})  # fmt: skip
    return rows


def clustered_embeddings(count: int, dim: int, seed: int = 0) -> np.ndarray:
    """Unit vectors of a 32-d mixture of 200 clusters mapped into `dim` dimensions, plus noise."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((200, 32))
    latent = centres[rng.integers(0, 200, count)] + 0.5 * rng.standard_normal((count, 32))
    x = latent @ rng.standard_normal((32, dim)) + 0.5 * rng.standard_normal((count, dim))
    x = x.astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def synthetic_index(embeddings: np.ndarray, root: Path) -> LibraryIndex:
    entries = [
        Entry(
            f"Artist {i // 120:04d}/Album {i // 12:05d}/{i % 12 + 1:02d} Track title {i}.mp3",
            213.4,
            5_123_456,
            1_700_000_000.123456,
            f"{i:064x}",
        )  # fmt: skip
        for i in range(len(embeddings))
    ]
    return LibraryIndex(root, "/models/best.ckpt", "0123456789abcdef", embeddings.shape[1],
                        entries, embeddings)  # fmt: skip


def bench_search(model, sizes: list[int], dim: int, work: Path, queries: int) -> list[dict]:
    rows = []
    for size in sizes:
        data = clustered_embeddings(size + queries, dim, seed=size)
        index = synthetic_index(data[:size], work)
        index.save(work / f"index-{size}", complete=True, now="bench")
        index = LibraryIndex.load(work / f"index-{size}")
        start = time.perf_counter()
        index.search(data[size], 10, "faiss")  # builds (and caches) the graph
        build = time.perf_counter() - start
        exact = [h.position for q in data[size:] for h in index.search(q, 10)[0]]
        approx = [h.position for q in data[size:] for h in index.search(q, 10, "faiss")[0]]
        recall = np.mean([len(set(exact[i : i + 10]) & set(approx[i : i + 10])) / 10
                          for i in range(0, len(exact), 10)])  # fmt: skip
        row = {"tracks": size, "dim": dim, "faiss_build_seconds": build, "faiss_recall@10": recall}
        project = (
            np.random.default_rng(1).standard_normal((model.embed_dim, dim)).astype(np.float32)
        )
        for backend in ("exact", "faiss"):
            embed, search = [], []
            for i in range(queries):
                start = time.perf_counter()
                # The query's own text embedding, mapped to `dim` when the model's is smaller.
                text_emb = model.embed_text([QUERIES[i % len(QUERIES)]]).numpy() @ project
                middle = time.perf_counter()
                index.search(text_emb / np.linalg.norm(text_emb), 10, backend)
                embed.append(middle - start)
                search.append(time.perf_counter() - middle)
            total = np.add(embed, search)
            row[f"{backend}_median_ms"] = 1e3 * float(np.median(total))
            row[f"{backend}_p95_ms"] = 1e3 * float(np.percentile(total, 95))
            row[f"{backend}_search_only_median_ms"] = 1e3 * float(np.median(search))
            row["text_embed_median_ms"] = 1e3 * float(np.median(embed))
        folder = work / f"index-{size}"
        total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        graph = sum(p.stat().st_size for p in folder.rglob(faiss_search.CACHE_FILE))
        row["bytes_per_1k_tracks"] = (total - graph) * 1000 / size
        row["faiss_bytes_per_1k_tracks"] = graph * 1000 / size
        rows.append(row)
    return rows


def table(result: dict) -> str:
    lines = ["indexing (30 s MP3s)      workers  files/s"]
    for row in result["indexing"]:
        lines.append(
            f"  {row['files']} files{'':17}{row['workers']:>3}  {row['files_per_second']:7.2f}"
        )
    lines.append("one text query (embed+search)  exact med/p95 ms  faiss med/p95 ms  recall@10  "
                 "build s  MB/1k (+graph)")  # fmt: skip
    for r in result["search"]:
        lines.append(
            f"  {r['tracks']:>7} x {r['dim']}-d     {r['exact_median_ms']:6.1f} / {r['exact_p95_ms']:5.1f}"
            f"    {r['faiss_median_ms']:6.1f} / {r['faiss_p95_ms']:5.1f}    {r['faiss_recall@10']:.3f}"
            f"   {r['faiss_build_seconds']:6.1f}   {r['bytes_per_1k_tracks'] / 1e6:.2f} "
            f"(+{r['faiss_bytes_per_1k_tracks'] / 1e6:.2f})"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--dim", type=int, default=512, help="the full model's embedding size")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = muscall.load(random_checkpoint(work / "random.ckpt"), device="cpu")
        write_mp3s(work / "music", args.files)
        indexing = bench_indexing(model, work / "music", work, args.files)
        # One query is a handful of tokens: threads only add wake-up latency (270 ms instead
        # of 2 ms for the text side on a busy 2-core machine), so queries run on one.
        torch.set_num_threads(1)
        search_rows = bench_search(model, args.sizes, args.dim, work, args.queries)
        result = {
            "host": socket.gethostname(),
            "cpu": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "model": "model=cpu (random weights)",
            "indexing": indexing,
            "search": search_rows,
            "load_average": os.getloadavg(),
        }
    out = Path(args.out or Path(__file__).parent / "results" / f"library-{result['host']}.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
