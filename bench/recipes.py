"""Recipes against each other at one CPU budget, on the built-in data and on held-out data.

    python bench/recipes.py [--datasets heldout builtin] [--recipes small_data cpu_demo]
                            [--minutes 8] [--seeds 1 2] [--clips 500] [--captions both]

Builds the held-out set (bench/heldout, 600 clips of 6 s, 400/100/100) and a `--clips` build
of the built-in dataset (80/10/10) with its per-attribute zero-shot sets
(bench/builtin_attributes.py), then trains each recipe for `--minutes` of wall clock
(trainer.max_time; the learning-rate schedule spans it) for each seed and dataset, alternating
recipes so that a busy machine slows each alike. Each run's best checkpoint is evaluated by
the usual post-fit evaluation: test retrieval and `zeroshot=attributes`, accuracy per
attribute. One table for both datasets: `--out`.json (every run, the ceilings, the machine,
the load average around each run, the command) and `--out`.md (bench/recipes_table.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recipes_table import markdown  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KEYS = (
    "test/text_to_audio_R@1",
    "test/text_to_audio_R@5",
    "test/text_to_audio_R@10",
    "test/text_to_audio_mean_rank",
    "test/audio_to_text_R@5",
    "epochs",
    "steps",
)
# A recipe is a name for a list of overrides; the third one is a lever on the first.
RECIPES = {
    "small_data": ["experiment=small_data"],
    "cpu_demo": ["experiment=cpu_demo"],
    # The early-stopping rule: small_data runs to the end of its budget.
    "small_data_full_budget": ["experiment=small_data", "callbacks.early_stopping.patience=100000"],
    # Mel resolution: model=cpu's 64 bands lie 27-66 Hz apart below 1 kHz, a semitone or more,
    # so a major and a minor third blur; 128 bands of a 2048-point FFT resolve semitones above
    # about 250 Hz, at about twice the convolution cost.
    # Augmentation: SpecAugment's frequency masks can hide the band that holds a chord's third.
    "small_data_no_augment": ["experiment=small_data", "ablation=no_augment"],
    "small_data_fine_mel": [
        "experiment=small_data",
        "model.net.frontend.n_fft=2048",
        "model.net.frontend.n_mels=128",
        "model.net.audio_encoder.freq_positions=4",
    ],  # fmt: skip
}


def run(overrides: list[str], log: Path) -> None:
    with log.open("w") as out:
        subprocess.run([sys.executable, *overrides], cwd=ROOT, stdout=out,
                       stderr=subprocess.STDOUT, check=True)  # fmt: skip


def prepare(dataset: str, args, runs_dir: Path) -> tuple[list[str], dict | None]:
    """Build a dataset once; its data overrides and its ceiling (None where undefined)."""
    if dataset == "heldout":
        data = ROOT / "data" / "heldout"
        run(["-m", "bench.heldout", "--root", str(data)], runs_dir / "heldout-build.log")
        run(["-m", "bench.heldout.audibility", "--root", str(data)], runs_dir / "heldout-probe.log")
        run(["-m", "bench.heldout.ceiling", str(data)], runs_dir / "heldout-ceiling.log")
        limits = json.loads((data / "ceiling.json").read_text())
        ceiling = {**limits["test"], "deaf_to": limits["test_deaf_to"]}
        ceiling["audibility"] = json.loads((data / "audibility.json").read_text())
        return ["data=folder", f"data.root={data}", "zeroshot=attributes"], ceiling
    data = ROOT / "data" / f"synthmusic{args.clips}"
    common = [f"data.root={data}", f"data.generate.root={data}",
              f"data.generate.num_clips={args.clips}"]  # fmt: skip
    run(["src/run.py", "task=generate", *common], runs_dir / "builtin-build.log")
    run(["bench/builtin_attributes.py", str(data)], runs_dir / "builtin-sets.log")
    limit = "1" if args.captions == "sentence" else "null"
    return [*common, f"data.max_captions={limit}", "zeroshot=attributes"], None


def stop_reason(log: Path, epochs: float | None) -> str:
    """Why training ended, from Lightning's own messages; neither means early stopping."""
    text = log.read_text(errors="replace")
    if "Time limit reached" in text:
        return "time limit"
    if "`max_epochs=" in text and "reached" in text:
        return "max_epochs"
    return "early stopping" if epochs is not None else "unknown"


def one_run(recipe: str, dataset: str, seed: int, data: list[str], args, runs_dir: Path) -> dict:
    name = f"{dataset}-{recipe}-seed{seed}"
    folder = runs_dir / name
    overrides = ["src/run.py", *RECIPES[recipe], *data, f"trainer.max_time=00:00:{args.minutes:02d}:00",
                 "trainer.max_epochs=1000", f"seed={seed}", f"hydra.run.dir={folder}",
                 "trainer.enable_progress_bar=false"]  # fmt: skip
    load_before, start = os.getloadavg(), time.perf_counter()
    run(overrides, runs_dir / f"{name}.log")
    wall = time.perf_counter() - start
    metrics = json.loads((folder / "metrics.json").read_text())
    zeroshot = {}  # percent: accuracy, or a tagging set's macro ROC-AUC (0-1) times 100
    for key, value in metrics.items():
        parts = key.split("/")
        if parts[0] == "zeroshot" and parts[-1] in ("accuracy", "roc_auc_macro"):
            zeroshot[parts[1]] = value * 100 if parts[-1] == "roc_auc_macro" else value
    return {"dataset": dataset, "recipe": recipe, "seed": seed, "minutes": args.minutes,
            "wall_seconds": round(wall, 1),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            **{k: metrics.get(k) for k in KEYS}, "zeroshot": zeroshot,
            "stop": stop_reason(runs_dir / f"{name}.log", metrics.get("epochs")),
            "best_checkpoint": metrics.get("best_checkpoint"),
            "command": "python " + " ".join(overrides)}  # fmt: skip


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                  .splitlines() if line.startswith("model name")), platform.processor())  # fmt: skip
    return f"{platform.machine()}, {os.cpu_count()} CPUs ({model}), {platform.node()}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["heldout", "builtin"],
                        choices=["heldout", "builtin"])  # fmt: skip
    parser.add_argument("--recipes", nargs="+", default=["small_data", "cpu_demo"],
                        choices=sorted(RECIPES))  # fmt: skip
    parser.add_argument("--minutes", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clips", type=int, default=500, help="built-in dataset size")
    parser.add_argument("--captions", choices=["sentence", "both"], default="both",
                        help="built-in captions trained and tested on")  # fmt: skip
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "recipes-heldout")
    parser.add_argument("--append", action="store_true",
                        help="add the runs to those already in --out.json")  # fmt: skip
    args = parser.parse_args(argv)
    # A folder per invocation: a run never lands in an earlier run's folder and checkpoints.
    runs_dir = ROOT / "outputs" / "recipes" / time.strftime("%Y%m%d-%H%M%S")
    runs_dir.mkdir(parents=True, exist_ok=True)
    prepared = {dataset: prepare(dataset, args, runs_dir) for dataset in args.datasets}
    command = " ".join(["python bench/recipes.py", *(argv or sys.argv[1:])])
    result = {"machine": machine(), "cores": os.cpu_count(), "commands": [], "ceilings": {},
              "builtin": {"clips": args.clips, "captions": args.captions}, "runs": []}  # fmt: skip
    if args.append and args.out.with_suffix(".json").is_file():
        result = json.loads(args.out.with_suffix(".json").read_text())
    result["commands"].append(command)
    result["ceilings"].update({d: c for d, (_, c) in prepared.items()})
    for seed in args.seeds:
        for dataset, (data, _) in prepared.items():
            for recipe in args.recipes:
                row = one_run(recipe, dataset, seed, data, args, runs_dir)
                result["runs"].append(row)
                print(json.dumps(row), flush=True)
                write(args.out, result)


def write(out: Path, result: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(result))


if __name__ == "__main__":
    main()
