"""experiment=small_data against experiment=cpu_demo at the same CPU budget, on a small dataset.

    python bench/recipes.py [--clips 500] [--minutes 8] [--seeds 1 2] [--out PATH]

Builds a `--clips` build of the built-in dataset (80/10/10 split), then trains each recipe for
`--minutes` of wall clock (trainer.max_time; the learning-rate schedule spans it) on sentence
captions alone (data.max_captions=1) and on both caption forms, for each seed, alternating
recipes so that a busy machine slows both alike. Each run's best checkpoint is evaluated on
the test split by the usual post-fit evaluation; the JSON keeps every run's metrics.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS = (
    "test/text_to_audio_R@1",
    "test/text_to_audio_R@5",
    "test/text_to_audio_R@10",
    "test/text_to_audio_mean_rank",
    "test/audio_to_text_R@5",
    "zeroshot/genre/accuracy",
    "epochs",
    "steps",
)


def run(overrides: list[str], log: Path) -> None:
    with log.open("w") as out:
        subprocess.run(
            [sys.executable, "src/run.py", *overrides],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=500)
    parser.add_argument("--minutes", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--recipes", nargs="+", default=["small_data", "cpu_demo"])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "recipes-cpu.json")
    args = parser.parse_args()
    data = ROOT / "data" / f"synthmusic{args.clips}"
    runs_dir = ROOT / "outputs" / "recipes"
    runs_dir.mkdir(parents=True, exist_ok=True)
    common = [
        f"data.root={data}",
        f"data.generate.root={data}",
        f"data.generate.num_clips={args.clips}",
    ]
    run(["task=generate", *common], runs_dir / "generate.log")
    budget = f"trainer.max_time=00:00:{args.minutes:02d}:00"
    results = []
    for seed in args.seeds:
        for captions, limit in (("sentence", "1"), ("both", "null")):
            for recipe in args.recipes:
                name = f"{recipe}-{captions}-seed{seed}"
                folder = runs_dir / name
                overrides = [f"experiment={recipe}", *common, budget, "trainer.max_epochs=1000",
                             f"data.max_captions={limit}", f"seed={seed}", f"hydra.run.dir={folder}",
                             "trainer.enable_progress_bar=false"]  # fmt: skip
                start = time.perf_counter()
                run(overrides, runs_dir / f"{name}.log")
                metrics = json.loads((folder / "metrics.json").read_text())
                row = {"recipe": recipe, "captions": captions, "seed": seed,
                       "wall_seconds": time.perf_counter() - start,
                       **{k: metrics.get(k) for k in KEYS}, "best_checkpoint": metrics.get("best_checkpoint")}  # fmt: skip
                results.append(row)
                print(json.dumps(row), flush=True)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps({"machine": f"{platform.machine()}, {platform.node()}", "clips": args.clips, "minutes": args.minutes, "runs": results}, indent=2) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
