"""Sweeps: Optuna and grid sweeps run every job; a failed job is reported and the sweep goes on."""

import csv
import json
import math
import subprocess
import sys

import pytest
import yaml

from muscall.config import PROJECT_ROOT, compose_config
from muscall.errors import DatasetError
from muscall.runs.sweep import FAILED_FILE, SweepRecord
from muscall.tasks import compare

# One short epoch per job, nothing evaluated after it: a job takes a few seconds.
QUICK = [
    "model=tiny",
    "trainer=cpu",
    "data=folder",
    "data.clip_seconds=1.0",
    "data.batch_size=4",
    "data.num_workers=0",
    "trainer.max_epochs=1",
    "trainer.enable_progress_bar=false",
    "task.test_after_fit=false",
    "task.zeroshot_after_fit=false",
    "plots.enabled=false",
]


def _sweep(sweep_dir, *overrides, multirun=True):
    """`python src/run.py [-m] ...`: hparams_search=muscall_optuna needs no -m."""
    flags = ["-m"] if multirun else []
    done = subprocess.run(
        [sys.executable, "src/run.py", *flags, *QUICK, f"hydra.sweep.dir={sweep_dir}", *overrides],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _job(sweep_dir, num):
    """(metrics.json, failed.json) of a job; None for the one it lacks."""
    folder = sweep_dir / str(num)
    read = [folder / "metrics.json", folder / FAILED_FILE]
    return tuple(json.loads(p.read_text()) if p.is_file() else None for p in read)


def test_an_optuna_sweep_goes_on_past_a_failed_trial(tmp_path, tiny_dataset):
    sweep_dir = tmp_path / "sweep"
    missing = tmp_path / "missing"
    done = _sweep(
        sweep_dir,
        "hparams_search=muscall_optuna",
        "hydra.sweeper.n_trials=3",
        f"data.root=choice({tiny_dataset},{missing})",  # a bad path for some trials
        "trainer.limit_train_batches=1",
        multirun=False,
    )
    jobs = [_job(sweep_dir, n) for n in range(3)]
    finished = [metrics for metrics, _ in jobs if metrics]
    failed = [failure for _, failure in jobs if failure]
    # The seeded sampler draws both paths: one job fails, the others still run.
    assert len(finished) == 2 and len(failed) == 1
    assert failed[0]["error"] == "DatasetError" and str(missing) in failed[0]["message"]
    assert "1 of 3 jobs failed" in done.stderr

    results = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    searched = {"model.optimizer.lr", "model.optimizer.weight_decay", "model.net.logit_scale_init"}
    assert searched <= results["best_params"].keys()
    metric = "val/text_to_audio_R@10"  # task.optimized_metric of task=train
    assert results["best_value"] == max(m[metric] for m in finished)
    assert results["best_params"]["data.root"] == str(tiny_dataset)
    lrs = {
        yaml.safe_load((sweep_dir / f"{n}/.hydra/config.yaml").read_text())["model"]["optimizer"][
            "lr"
        ]
        for n in range(3)
    }
    assert len(lrs) == 3 and all(1e-5 <= lr <= 3e-3 for lr in lrs)  # the config's interval


def test_a_grid_sweep_runs_every_job_and_reports_bad_input_and_divergence(
    tmp_path, tiny_dataset, capsys
):
    sweep_dir = tmp_path / "grid"
    missing = tmp_path / "missing"
    done = _sweep(sweep_dir, f"data.root={tiny_dataset},{missing}", "model.optimizer.lr=1e-3,1e10")
    # Jobs in order: (tiny, 1e-3), (tiny, 1e10), (missing, 1e-3), (missing, 1e10).
    (metrics, _), (_, diverged), (_, bad_1), (_, bad_2) = [_job(sweep_dir, n) for n in range(4)]
    assert metrics["val/text_to_audio_R@10"] >= 0
    assert (
        diverged["error"] == "DivergenceError" and "lower model.optimizer.lr" in diverged["message"]
    )
    assert diverged["overrides"][-1] == "model.optimizer.lr=10000000000.0"
    assert bad_1["error"] == bad_2["error"] == "DatasetError"
    assert "3 of 4 jobs failed" in done.stderr

    # task=compare reads the multirun folder: the swept keys, the finished job first.
    out = tmp_path / "compare"
    compare.run(compose_config(["task=compare", f"root={sweep_dir}"], out))
    with (out / "compare.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["run"] for r in rows] == ["0", "1", "2", "3"]
    assert [r["status"] for r in rows] == [
        "finished",
        "failed (DivergenceError)",
        "failed (DatasetError)",
        "failed (DatasetError)",
    ]
    assert list(rows[0])[:5] == [
        "run",
        "status",
        "data.root",
        "model.optimizer.lr",
        "val/text_to_audio_R@10",
    ]
    assert "training diverged" in (out / "compare.md").read_text()


def _record(tmp_path, compose_command_line, *overrides):
    hydra = {"mode": "MULTIRUN", "runtime.output_dir": str(tmp_path), "job.num": 3}
    cfg = compose_command_line(tmp_path, list(overrides), hydra)
    return cfg, SweepRecord()


def test_a_failed_job_writes_failed_json_and_gets_the_worst_value(tmp_path, compose_command_line):
    cfg, record = _record(tmp_path, compose_command_line, "seed=3")
    assert record.failed_job(cfg, DatasetError("data.root: nothing there")) == -math.inf
    failure = json.loads((tmp_path / FAILED_FILE).read_text())
    assert failure == {
        "error": "DatasetError",
        "message": "data.root: nothing there",
        "overrides": ["seed=3"],
    }
    # An error that is nobody's input (a bug, out of memory): the trace says where.
    assert record.failed_job(cfg, RuntimeError("CUDA out of memory")) == -math.inf
    assert (
        "RuntimeError: CUDA out of memory"
        in json.loads((tmp_path / FAILED_FILE).read_text())["traceback"]
    )
    assert record.exit_status() == 2  # every job failed


def test_a_finished_job_hands_its_metric_and_the_worst_when_it_has_none(
    tmp_path, compose_command_line
):
    cfg, record = _record(tmp_path, compose_command_line, "task=retrieval")
    assert record.finished(cfg, {"text_to_audio_R@10": 42.0}) == 42.0
    # NaN would crash Optuna's sweeper; a missing value would fail it.
    assert record.finished(cfg, {"text_to_audio_R@10": math.nan}) == -math.inf
    assert record.finished(cfg, {}) == -math.inf
    assert record.exit_status() == 0


def test_outside_a_sweep_a_job_hands_what_it_has(tmp_path):
    cfg = compose_config([], tmp_path)
    assert SweepRecord().finished(cfg, {}) is None


@pytest.mark.parametrize(("mode", "worst"), [("max", -math.inf), ("min", math.inf), (None, None)])
def test_the_worst_value_follows_the_task_direction(tmp_path, compose_command_line, mode, worst):
    cfg, record = _record(tmp_path, compose_command_line, f"task.optimized_mode={mode or 'null'}")
    assert record.failed_job(cfg, DatasetError("x")) == worst


@pytest.mark.parametrize(("mode", "direction"), [("max", "maximize"), ("min", "minimize")])
def test_the_search_direction_is_the_tasks(tmp_path, mode, direction):
    overrides = ["hparams_search=muscall_optuna", f"task.optimized_mode={mode}"]
    cfg = compose_config(overrides, tmp_path, return_hydra_config=True)
    sweeper = cfg.hydra.sweeper
    assert sweeper.direction == direction and sweeper.sampler.seed == cfg.seed
    assert set(sweeper.params) == {
        "model.optimizer.lr",
        "data.batch_size",
        "model.optimizer.weight_decay",
        "model.net.logit_scale_init",
    }
