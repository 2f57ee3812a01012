"""Data-loading throughput against what a training step consumes, written as JSON.

    python bench/loading.py [--tracks 48] [--seconds 20] [--workers 1 2] [--out FILE]

Synthetic 30 s stereo tracks at 44.1 kHz as .npy, FLAC and MP3 (a folder dataset each) and
the FLAC dataset's WebDataset shards (16 kHz FLAC and .npy), read as training reads them:
random `--seconds` crops at 16 kHz, batches of 16. Each is timed after its first batch, so
worker start-up is left out. The consumption side: one training step of the paper model
(model=muscall, fp32, this machine's CPU) on the same batch: forward, InfoNCE, backward, AdamW.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
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

# bench/run.py's training step: by path, since src/run.py is also importable as `run`.
_spec = importlib.util.spec_from_file_location("bench_run", Path(__file__).parent / "run.py")
_bench_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench_run)
Ours, step_seconds = _bench_run.Ours, _bench_run._seconds

go_offline()

SOURCE_RATE = 44100
TRACK_SECONDS = 30.0
BATCH = 16
CAPTION = "an upbeat rock song with distorted electric guitar, bass and energetic drums"


def write_sources(root: Path, tracks: int) -> dict[str, Path]:
    """One folder dataset per source format, the same tracks in each."""
    rng = np.random.default_rng(0)
    t = np.arange(int(TRACK_SECONDS * SOURCE_RATE)) / SOURCE_RATE
    folders = {}
    # "prepared": what task=prepare writes (16 kHz mono FLAC); the others as downloaded.
    for fmt in ("npy", "flac", "mp3", "prepared"):
        folder = root / fmt
        (folder / "audio").mkdir(parents=True)
        entries = []
        for i in range(tracks):
            tone = 0.2 * np.sin(2 * np.pi * (110 + 10 * i) * t) + 0.05 * rng.standard_normal(len(t))
            stereo = np.stack([tone, np.roll(tone, 100)], axis=1).astype(np.float32)
            path = f"audio/{i:04d}.{'flac' if fmt == 'prepared' else fmt}"
            if fmt == "npy":
                np.save(folder / path, stereo.mean(axis=1))  # .npy is mono, as prepared data is
            elif fmt == "prepared":
                t16 = np.arange(int(TRACK_SECONDS * 16000)) / 16000
                tone16 = 0.2 * np.sin(2 * np.pi * (110 + 10 * i) * t16)
                sf.write(folder / path, tone16 + 0.05 * rng.standard_normal(len(t16)), 16000)
            else:
                sf.write(folder / path, stereo, SOURCE_RATE, format=fmt.upper())
            entries.append({"audio_id": str(i), "caption": CAPTION, "audio_path": path})
        for split in ("train", "val"):
            (folder / f"bench_{split}.json").write_text(json.dumps(entries))
        folders[fmt] = folder
    return folders


def shard(folder: Path, fmt: str, run: Path) -> Path:
    from muscall.tasks import shard as shard_task

    out = folder.parent / f"shards-{fmt}"
    overrides = ["task=shard", "data=folder", f"data.root={folder}", f"out={out}"]
    overrides += [f"task.audio_format={fmt}", "task.max_items_per_shard=8", "task.splits=[train]"]
    shard_task.run(compose_config(overrides, run))
    return out


def loader(data_overrides: list[str], seconds: float, workers: int, run: Path):
    cfg = compose_config(
        [
            *data_overrides,
            f"data.clip_seconds={seconds}",
            f"data.batch_size={BATCH}",
            f"data.num_workers={workers}",
            f"data.npy_sample_rate={SOURCE_RATE}",  # the synthetic .npy tracks' rate
        ]
    )
    datamodule = instantiate(cfg.data, tokenizer=None, bad_items_path=run / "bad.jsonl", seed=0)
    return datamodule.train_dataloader()


def clips_per_second(batches) -> float:
    """Clips/s over every batch after the first (which pays for starting the workers)."""
    iterator = iter(batches)
    next(iterator)
    start, clips = time.perf_counter(), 0
    for batch in iterator:
        clips += len(batch["audio"])
    return clips / (time.perf_counter() - start)


def training_pairs_per_second(seconds: float, repeats: int) -> dict:
    """One fp32 training step of model=muscall at batch 16 as this project takes it (bench/run.py's
    `Ours`: its optimizer config and parameter groups), timed `repeats` times after a warm-up."""
    ours = Ours("muscall", torch.device("cpu"), amp=False)
    wave = torch.randn(BATCH, int(seconds * ours.sample_rate)) * 0.1
    tokens = ours.tokens([CAPTION] * BATCH, wave.device)
    ours.step(wave, tokens)
    seconds_per_step = step_seconds(lambda: ours.step(wave, tokens), wave.device, repeats)
    return {"step_seconds": seconds_per_step, "pairs_per_second": BATCH / seconds_per_step}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=48)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--train-repeats", type=int, default=2)
    parser.add_argument("--out", default="bench/results/loading-cpu-2core.json")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]  # a shared machine slows both sides: recorded with them
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sources = write_sources(root, args.tracks)
        shards = {fmt: shard(sources["flac"], fmt, root / f"run-{fmt}") for fmt in ("flac", "npy")}
        setups = {
            (
                "folder flac 16 kHz (task=prepare)"
                if fmt == "prepared"
                else f"folder {fmt} 44.1 kHz"
            ): ["data=folder", f"data.root={p}"]
            for fmt, p in sources.items()
        }
        for fmt, folder in shards.items():
            setups[f"shards {fmt} 16 kHz"] = [
                "data=webdataset",
                f"data.urls={folder}",
                "data.shuffle_buffer=16",
            ]
        rows = []
        for name, overrides in setups.items():
            for workers in args.workers:
                rate = clips_per_second(loader(overrides, args.seconds, workers, root))
                rows.append(
                    {
                        "source": name,
                        "workers": workers,
                        "clips_per_second": rate,
                        "clips_per_second_per_worker": rate / workers,
                    }
                )
    train = training_pairs_per_second(args.seconds, args.train_repeats)
    for row in rows:
        row["loading_over_training"] = row["clips_per_second"] / train["pairs_per_second"]
    result = {
        "machine": f"{platform.machine()} {platform.processor() or platform.node()}",
        "cpu_threads": torch.get_num_threads(),
        "load_average_1min": [load_before, os.getloadavg()[0]],
        "clip_seconds": args.seconds,
        "sample_rate": 16000,
        "source_rate": SOURCE_RATE,
        "batch_size": BATCH,
        "train_step_fp32_muscall": train,
        "loading": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"training consumes {train['pairs_per_second']:.1f} pairs/s (model=muscall, fp32)")
    print(f"{'source':<34}{'workers':>8}{'clips/s':>10}{'/worker':>10}{'x train':>9}")
    for row in rows:
        print(
            f"{row['source']:<34}{row['workers']:>8}{row['clips_per_second']:>10.1f}"
            f"{row['clips_per_second_per_worker']:>10.1f}{row['loading_over_training']:>9.1f}"
        )
    print(f"-> {out}")


if __name__ == "__main__":
    main()
