"""bench/recipes.py's table: one row per run, the ceiling beside it, means per recipe."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str):
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def _run(dataset: str, recipe: str, seed: int, r5: float, zeroshot: dict) -> dict:
    return {"dataset": dataset, "recipe": recipe, "seed": seed, "minutes": 8, "wall_seconds": 500.0,
            "load_average_before": [3.0, 2.0, 1.0], "load_average_after": [2.5, 2.0, 1.0],
            "test/text_to_audio_R@1": 40.0, "test/text_to_audio_R@5": r5,
            "test/text_to_audio_R@10": 99.0, "test/text_to_audio_mean_rank": 2.5,
            "epochs": 40.0, "stop": "early stopping", "zeroshot": zeroshot}  # fmt: skip


def test_table_has_every_run_its_ceiling_and_the_means():
    ceiling = {"text_to_audio_R@1": 64.0, "text_to_audio_R@5": 100.0,
               "text_to_audio_R@10": 100.0, "text_to_audio_mean_rank": 1.36,
               "audibility": {"tempo": 98.0, "mode": 80.0},
               "deaf_to": {"mode": {"text_to_audio_R@1": 32.0, "text_to_audio_R@5": 100.0,
                                    "text_to_audio_R@10": 100.0, "text_to_audio_mean_rank": 2.15}}}  # fmt: skip
    result = {"machine": "x86_64, 2 CPUs", "commands": ["python bench/recipes.py"],
              "ceilings": {"heldout": ceiling, "builtin": None},
              "runs": [_run("heldout", "small_data", 1, 80.0, {"tempo": 90.0}),
                       _run("heldout", "small_data", 2, 70.0, {"tempo": 70.0}),
                       _run("builtin", "cpu_demo", 1, 90.0, {"instrument": 85.0})]}  # fmt: skip
    text = _load("recipes_table").markdown(result)
    rows = [line for line in text.splitlines() if line.startswith("| heldout")]
    assert len(rows) == 3  # two runs and one mean
    assert "64 / 100 / 100, 1.36" in rows[0]
    assert "| heldout | `small_data` | 8 | 2 | 75.0 | 2.50 | – | 80 |" in text
    assert "| builtin | `cpu_demo` | 8 | 1 | 90.0 | 2.50 | 85 | – |" in text
    assert "Audibility on heldout" in text and "mode 80" in text
    assert "deaf to one attribute" in text and "mode 32 / 100 / 100, 2.15" in text


def test_stop_reason_reads_lightnings_messages(tmp_path):
    recipes = _load("recipes")
    log = tmp_path / "run.log"
    log.write_text("Time limit reached. Elapsed time is 0:08:00. Signaling Trainer to stop.\n")
    assert recipes.stop_reason(log, 50.0) == "time limit"
    log.write_text("`Trainer.fit` stopped: `max_epochs=1000` reached.\n")
    assert recipes.stop_reason(log, 999.0) == "max_epochs"
    log.write_text("Epoch 41: ...\n")
    assert recipes.stop_reason(log, 41.0) == "early stopping"
