"""Runs you can trust: a trained checkpoint gets the same numbers by every evaluation path,
each job of a sweep is its own wandb run, and early stopping stops.
"""

import csv
from pathlib import Path

import pytest
import wandb
from omegaconf import OmegaConf

from muscall.config import compose_config
from muscall.runs import evaluation, loggers
from muscall.tasks import retrieval, train, zeroshot
from tests.helpers.datasets import SMALL_RUN_TEMPLATES, tiny_run

# What the checkpoint records of the small run's data config (conftest.small_run).
SMALL_RUN_PREPROCESSING = {
    "sample_rate": 16000,
    "clip_seconds": 1.0,
    "eval_crop": "windows",
    "eval_clip_seconds": None,
    "eval_hop_seconds": 0.25,
}


def _eval_overrides(run, task):
    """An evaluation command line that names no preprocessing: only the data and the weights."""
    return [
        f"task={task}",
        "trainer=cpu",
        "data=folder",
        f"data.root={run['data']}",
        "data.num_workers=0",  # how the audio is loaded, not what the network sees
        f"ckpt_path={run['metrics']['best_checkpoint']}",
    ]


def _with_prefix(metrics, prefix):
    return {key: value for key, value in metrics.items() if key.startswith(prefix)}


def test_post_fit_metrics_are_the_eval_tasks_metrics_of_the_best_checkpoint(small_run, tmp_path):
    fit = small_run["metrics"]
    test = _with_prefix(fit, "test/")
    # The fixture leaves room to move: a degenerate run would make every comparison vacuous.
    assert test["test/num_tracks"] == 24
    assert 0 < test["test/text_to_audio_R@10"] < 100
    assert test["test/text_to_audio_mean_rank"] > 1

    got = retrieval.run(compose_config(_eval_overrides(small_run, "retrieval"), tmp_path / "r"))
    assert {f"test/{k}": v for k, v in got.items()} == pytest.approx(test, rel=1e-6)

    sets = f"zeroshot.sets={{words: {small_run['set_file']}}}"
    zs = zeroshot.run(
        compose_config([*_eval_overrides(small_run, "zeroshot"), sets], tmp_path / "z")
    )
    assert zs == pytest.approx(_with_prefix(fit, "zeroshot/"), rel=1e-6)
    assert zs["zeroshot/words/num_items"] == 24


def test_validation_inside_fit_is_task_retrieval_on_the_val_split(small_run, tmp_path):
    fit = small_run["metrics"]
    overrides = [*_eval_overrides(small_run, "retrieval"), "split=val"]
    got = retrieval.run(compose_config(overrides, tmp_path))
    # The selected epoch's row of the per-epoch history: the best R@10, then lowest mean rank.
    with (small_run["out"] / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    best_epoch = int(Path(fit["best_checkpoint"]).stem.split("epoch")[1][:3])
    row = next(r for r in rows if int(r["epoch"]) == best_epoch)
    # Logged through self.log: float32.
    assert got["text_to_audio_R@10"] == pytest.approx(fit["val/text_to_audio_R@10"], rel=1e-6)
    for key in ("text_to_audio_mean_rank", "audio_to_text_R@1", "audio_to_text_mean_rank"):
        assert got[key] == pytest.approx(float(row[f"val/{key}"]), rel=1e-6), key


def test_the_checkpoint_decides_preprocessing_and_templates(small_run, tmp_path):
    best = small_run["metrics"]["best_checkpoint"]
    cfg = compose_config(_eval_overrides(small_run, "zeroshot"), tmp_path)
    assert cfg.data.clip_seconds == 20.0 and cfg.data.eval_hop_seconds is None  # folder defaults
    opened = evaluation.open_checkpoint(cfg, best, {})
    assert opened.checkpoint.preprocessing == SMALL_RUN_PREPROCESSING
    reader = opened.datamodule.eval_reader
    assert (reader.clip_seconds, reader.mode, reader.hop_seconds) == (1.0, "windows", 0.25)
    assert opened.templates == SMALL_RUN_TEMPLATES != list(cfg.zeroshot.templates)


def test_a_preprocessing_key_on_the_command_line_wins(small_run, tmp_path, compose_command_line):
    overrides = [*_eval_overrides(small_run, "retrieval"), "data.clip_seconds=0.5"]
    cfg = compose_command_line(tmp_path / "r", overrides)
    assert "data.clip_seconds" in evaluation.command_line_keys()
    opened = evaluation.open_checkpoint(cfg, small_run["metrics"]["best_checkpoint"], {})
    reader = opened.datamodule.eval_reader
    # The key given wins; the others still come from the checkpoint.
    assert (reader.clip_seconds, reader.hop_seconds) == (0.5, 0.25)
    got = retrieval.run(cfg)
    test = _with_prefix(small_run["metrics"], "test/")
    assert {f"test/{k}": v for k, v in got.items()} != pytest.approx(test, rel=1e-6)


def test_templates_on_the_command_line_win(small_run, tmp_path, compose_command_line):
    overrides = [*_eval_overrides(small_run, "zeroshot"), "zeroshot.templates=['{} noise']"]
    cfg = compose_command_line(tmp_path, overrides)
    opened = evaluation.open_checkpoint(cfg, small_run["metrics"]["best_checkpoint"], {})
    assert opened.templates == ["{} noise"]


def _data(**values):
    base = {
        "root": "/data",
        "sample_rate": 22050,
        "clip_seconds": 20.0,
        "eval_crop": "centre",
        "eval_clip_seconds": None,
        "eval_hop_seconds": None,
        "batch_size": 32,
    }
    return OmegaConf.create({**base, **values})


def test_checkpoint_preprocessing_replaces_every_key_not_given():
    data = _data()
    merged = evaluation.with_checkpoint_preprocessing(
        data, SMALL_RUN_PREPROCESSING, given={"data.root"}
    )
    assert {key: merged[key] for key in SMALL_RUN_PREPROCESSING} == SMALL_RUN_PREPROCESSING
    assert merged.root == "/data" and merged.batch_size == 32  # not preprocessing: untouched
    assert data.clip_seconds == 20.0  # the caller's config is not modified


def test_a_given_key_is_kept_except_the_sample_rate():
    data = _data(clip_seconds=2.0, eval_crop="centre")
    given = {"data.clip_seconds", "data.eval_crop", "data.sample_rate"}
    merged = evaluation.with_checkpoint_preprocessing(data, SMALL_RUN_PREPROCESSING, given)
    assert (merged.clip_seconds, merged.eval_crop) == (2.0, "centre")
    # The network takes one rate: a different one on the command line cannot be honoured.
    assert merged.sample_rate == 16000
    assert merged.eval_hop_seconds == 0.25


def test_a_checkpoint_without_preprocessing_leaves_the_config():
    data = _data()
    assert evaluation.with_checkpoint_preprocessing(data, None, set()) == data


def test_command_line_keys_outside_and_inside_a_hydra_run(tmp_path, compose_command_line):
    assert evaluation.command_line_keys() == set()
    compose_command_line(tmp_path, ["data=folder", "+data.extra=1", "data.clip_seconds=2"])
    assert evaluation.command_line_keys() == {"data", "data.extra", "data.clip_seconds"}


def _quick_overrides(dataset, *extra):
    return tiny_run(dataset, "task.test_after_fit=false", "task.zeroshot_after_fit=false", *extra)


def _offline_runs(out):
    return sorted((out / "wandb").glob("offline-run-*"))


def test_each_train_job_in_one_process_is_its_own_wandb_run(tmp_path, tiny_dataset):
    # As a Hydra sweep runs its jobs: one after the other, in one process.
    jobs = []
    for job, seed in enumerate((1, 2)):
        out = tmp_path / f"job{job}"
        overrides = _quick_overrides(
            tiny_dataset,
            "logger=wandb",
            "trainer.max_epochs=1",
            "trainer.limit_train_batches=1",
            f"seed={seed}",
        )
        train.run(compose_config(overrides, out))
        assert wandb.run is None  # finished, not left open for the next job to log into
        runs = _offline_runs(out)
        assert len(runs) == 1, runs
        log_file = next(runs[0].glob("*.wandb"))
        jobs.append((runs[0].name.rsplit("-", 1)[1], log_file, log_file.stat().st_size))
    (first_id, first_log, first_size), (second_id, _, _) = jobs
    assert first_id != second_id
    assert first_log.stat().st_size == first_size  # the second job wrote nothing into it


SWEEP = "/runs/outputs/train/multirun/2026-01-01/12-00-00"


def _sweep_identity(tmp_path, compose_command_line, sweep_dir, num=3):
    overrides = ["logger=wandb", "data.clip_seconds=1.0", "seed=7"]
    hydra = {"mode": "MULTIRUN", "sweep.dir": sweep_dir, "job.num": num}
    cfg = compose_command_line(tmp_path, overrides, hydra)
    return loggers._wandb_identity(cfg, cfg.logger.wandb)


def test_a_single_run_is_grouped_by_task(tmp_path):
    cfg = compose_config(["logger=wandb"], tmp_path)
    assert loggers._wandb_identity(cfg, cfg.logger.wandb) == {
        "group": "train",
        "name": None,
        "tags": ["task=train"],
    }
    cfg = compose_config(["logger=wandb", "logger.wandb.group=g", "logger.wandb.name=n"], tmp_path)
    assert loggers._wandb_identity(cfg, cfg.logger.wandb) == {
        "group": "g",
        "name": "n",
        "tags": ["task=train"],
    }


def test_a_single_run_is_grouped_by_experiment_and_tagged_by_its_choices(
    tmp_path, compose_command_line
):
    overrides = ["logger=wandb", "experiment=cpu_demo", "ablation=ssl"]
    cfg = compose_command_line(tmp_path, overrides)
    identity = loggers._wandb_identity(cfg, cfg.logger.wandb)
    assert identity["group"] == "cpu_demo"
    for tag in ("task=train", "experiment=cpu_demo", "ablation=ssl", "model=cpu", "loss=clip"):
        assert tag in identity["tags"], identity["tags"]
    assert not any(tag.startswith("hparams_search=") for tag in identity["tags"])


def test_sweep_jobs_share_the_sweep_group_and_are_named_by_job(tmp_path, compose_command_line):
    identity = _sweep_identity(tmp_path, compose_command_line, SWEEP, num=3)
    assert identity["group"].startswith("train/") and "12-00-00" in identity["group"]
    assert identity["name"].startswith("job3: ")
    assert "data.clip_seconds=1.0" in identity["name"] and "seed=7" in identity["name"]
    other_job = _sweep_identity(tmp_path, compose_command_line, SWEEP, num=4)
    assert other_job["group"] == identity["group"] and other_job["name"] != identity["name"]


def test_sweeps_on_different_days_get_different_groups(tmp_path, compose_command_line):
    monday = _sweep_identity(tmp_path, compose_command_line, SWEEP)
    tuesday = _sweep_identity(tmp_path, compose_command_line, SWEEP.replace("01-01", "01-02"))
    assert monday["group"] != tuesday["group"]


def test_early_stopping_composes_and_stops_a_run_that_cannot_improve(tmp_path, tiny_dataset):
    cfg = compose_config(["callbacks=early_stopping"], tmp_path / "cfg")
    stopper = cfg.callbacks.early_stopping
    assert stopper.monitor == cfg.task.optimized_metric and stopper.mode == "max"
    assert {"model_checkpoint", "last_checkpoint", "metrics_history"} <= cfg.callbacks.keys()

    overrides = _quick_overrides(
        tiny_dataset,
        "callbacks=early_stopping",
        "callbacks.early_stopping.patience=1",
        "model.optimizer.lr=0",  # nothing can improve: epoch 2 ties epoch 1, and stops
        "trainer.max_epochs=5",
        "trainer.limit_train_batches=1",
    )
    out = tmp_path / "run"
    metrics = train.run(compose_config(overrides, out))
    assert metrics["steps"] == 2  # two epochs of one batch, not five
    with (out / "metrics.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 2
