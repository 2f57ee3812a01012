"""Faults: a run killed (SIGKILL), stopped (SIGTERM) or requeued (SLURM) goes on where it was,
with the numbers of a run that never stopped; a kill during a save never breaks a file.

The subprocess tests run `python src/run.py` as a user would and kill it for real.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from lightning_fabric.plugins.environments import SLURMEnvironment
from omegaconf import OmegaConf

from muscall.config import PROJECT_ROOT, compose_config
from muscall.errors import MuscallError
from muscall.lightning.checkpoint_io import AtomicCheckpointIO
from muscall.runs import assembly
from muscall.runs.resume import prepare_resume
from muscall.tasks import train
from tests.helpers.datasets import tiny_run, write_tiny_dataset

# 20 training tracks in batches of 4: 5 steps an epoch, 10 in all.
EPOCHS, STEPS_PER_EPOCH = 2, 5
STEPS = EPOCHS * STEPS_PER_EPOCH
STOPPED_BY_SIGTERM = 143


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_tiny_dataset(tmp_path_factory.mktemp("faults") / "tiny", counts=(20, 4, 4))


def _overrides(dataset, *extra):
    settings = [f"trainer.max_epochs={EPOCHS}", "task.test_after_fit=false"]
    settings += ["task.zeroshot_after_fit=false", "task.check_leakage=false", "seed=5"]
    return ["task=train", *tiny_run(dataset, *settings, *extra)]


def _start(dataset, log_dir, *extra) -> subprocess.Popen:
    # Never a SLURM job here, even when the tests run inside one: the run folder is dated.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    # Its own wandb service, as a run launched by a user has: a wandb run earlier in this test
    # process leaves WANDB_SERVICE set, and a shared service would keep a killed run's id busy.
    env.pop("WANDB_SERVICE", None)
    command = [sys.executable, "src/run.py", *_overrides(dataset, f"paths.log_dir={log_dir}")]
    return subprocess.Popen(
        [*command, *extra],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Its own process group, killed whole as a cluster kills a job.
        start_new_session=True,
    )


def _kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)


def _run(dataset, log_dir, *extra) -> subprocess.CompletedProcess:
    process = _start(dataset, log_dir, *extra)
    stdout, stderr = process.communicate(timeout=240)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _wait_for(pattern: str, root: Path, process: subprocess.Popen, timeout=120) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(root.glob(pattern))
        if found:
            return found[0]
        assert process.poll() is None, process.communicate()[1][-3000:]
        time.sleep(0.02)
    _kill(process)
    raise AssertionError(f"no {pattern} under {root} after {timeout} s")


def _run_folder(log_dir: Path) -> Path:
    """The one folder of `log_dir` that holds a run's results (resumed runs write into it)."""
    (config,) = log_dir.glob("train/*/*/config.yaml")
    return config.parent


def _results(run: Path) -> tuple[dict, str]:
    metrics = json.loads((run / "metrics.json").read_text())
    metrics.pop("best_checkpoint")
    return metrics, (run / "metrics.csv").read_text()


@pytest.fixture(scope="module")
def uninterrupted(dataset, tmp_path_factory):
    """metrics.json (less the checkpoint's path) and metrics.csv of a run that never stopped."""
    log_dir = tmp_path_factory.mktemp("uninterrupted")
    done = _run(dataset, log_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics, history = _results(_run_folder(log_dir))
    assert metrics["steps"] == STEPS and len(history.splitlines()) == 1 + EPOCHS
    return metrics, history


def test_sigkill_mid_epoch_then_ckpt_path_last_finishes_as_if_never_killed(
    dataset, tmp_path, uninterrupted
):
    every = "callbacks.last_checkpoint.every_n_train_steps=2"
    process = _start(dataset, tmp_path, every, "logger=wandb")
    last = _wait_for("train/*/*/checkpoints/last.ckpt", tmp_path, process)
    _kill(process)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    run = last.parent.parent
    killed_at = torch.load(last, weights_only=True)["global_step"]
    assert 0 < killed_at < STEPS and not (run / "metrics.json").exists()
    rows_before = (run / "metrics.csv").read_text().splitlines() if killed_at > 5 else []
    time.sleep(1.1)  # Hydra names run folders by the second

    resumed = _run(dataset, tmp_path, every, "logger=wandb", "ckpt_path=last")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming from {last}" in resumed.stderr and f"resuming in {run}" in resumed.stderr
    # The same numbers, every epoch's row included, as the run that was never killed.
    assert _results(run) == uninterrupted
    history = (run / "metrics.csv").read_text().splitlines()
    assert history[: len(rows_before)] == rows_before  # continued, not restarted
    # Everything in the first run's folder; the new process's own folder has only Hydra's.
    (second,) = [p for p in tmp_path.glob("train/*/*") if p != run]
    assert sorted(p.name for p in second.iterdir()) == [".hydra", "run.log"]
    # One wandb run, logged to by both processes (wandb sync merges them).
    run_id = (run / "wandb_run_id").read_text().strip()
    offline = sorted(p.name for p in (run / "wandb").glob("offline-run-*"))
    assert len(offline) == 2 and all(name.endswith(f"-{run_id}") for name in offline)


def test_sigterm_saves_a_checkpoint_says_how_to_resume_and_the_resume_finishes(
    dataset, tmp_path, uninterrupted
):
    every = "callbacks.last_checkpoint.every_n_train_steps=1"
    process = _start(dataset, tmp_path, every)
    _wait_for("train/*/*/checkpoints/last.ckpt", tmp_path, process)  # training has begun
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == STOPPED_BY_SIGTERM, stderr[-3000:]
    (message,) = [line for line in stderr.splitlines() if "stopped by SIGTERM" in line]
    run = _run_folder(tmp_path)
    saved = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    step = saved["global_step"]
    assert f"at epoch {saved['epoch']} step {step} " in message and step < STEPS
    command = message.split("resume with: ", 1)[1]
    assert command.startswith("python src/run.py task=train ") and command.endswith(
        "ckpt_path=last"
    )
    time.sleep(1.1)

    resumed = _run(dataset, tmp_path, every, "ckpt_path=last")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert _results(run) == uninterrupted


def test_resuming_from_any_saved_point_replays_the_same_batches(dataset, tmp_path, monkeypatch):
    """Mid-epoch (steps 2, 6), after validation at an epoch's end (5): the same history.

    The first run loads in a worker process, the resumed ones in the main one: crops and
    order come from (seed, epoch, item), not from where they are drawn.
    """
    overrides = _overrides(dataset, "callbacks.last_checkpoint.every_n_train_steps=2")
    with_worker = [o.replace("num_workers=0", "num_workers=1") for o in overrides]
    kept = tmp_path / "kept"
    kept.mkdir()
    save = AtomicCheckpointIO.save_checkpoint

    def keeping_each(self, checkpoint, path, storage_options=None):
        save(self, checkpoint, path, storage_options)
        if Path(path).name == "last.ckpt" and checkpoint["global_step"] in (2, 5, 6):
            (kept / f"step{checkpoint['global_step']}.ckpt").write_bytes(Path(path).read_bytes())

    monkeypatch.setattr(AtomicCheckpointIO, "save_checkpoint", keeping_each)
    train.run(compose_config(with_worker, tmp_path / "full"))
    monkeypatch.undo()
    history = (tmp_path / "full" / "metrics.csv").read_text()
    assert len(list(kept.iterdir())) == 3
    for checkpoint in sorted(kept.iterdir()):
        out = tmp_path / checkpoint.stem
        train.run(compose_config([*overrides, f"ckpt_path={checkpoint}"], out))
        assert (out / "metrics.csv").read_text() == history, checkpoint.name


KILLED_DURING_SAVE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import torch
    import lightning_fabric.plugins.io.torch_io as torch_io
    from muscall.lightning.checkpoint_io import AtomicCheckpointIO

    path = Path(sys.argv[1])
    AtomicCheckpointIO().save_checkpoint({"generation": 1, "w": torch.ones(1000)}, path)

    def half_then_hang(checkpoint, filepath):
        data = b"PK" + b"x" * 100_000  # the start of a zip, as torch.save begins one
        with open(filepath, "wb") as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
        Path(sys.argv[2]).touch()
        time.sleep(600)

    torch_io._atomic_save = half_then_hang
    AtomicCheckpointIO().save_checkpoint({"generation": 2, "w": torch.zeros(1000)}, path)
    """
)


def test_a_kill_during_a_checkpoint_save_leaves_the_previous_checkpoint(tmp_path):
    path, writing = tmp_path / "checkpoints" / "last.ckpt", tmp_path / "writing"
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_DURING_SAVE, str(path), str(writing)],
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(writing.name, tmp_path, process)
    (partial,) = [p for p in path.parent.iterdir() if p != path]  # half written, beside it
    assert partial.stat().st_size > 0 and partial.name.startswith(".partial-")
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    saved = torch.load(path, weights_only=True)
    assert saved["generation"] == 1 and bool(saved["w"].eq(1).all())


def test_ckpt_path_last_without_an_earlier_run_says_what_to_do(
    dataset, tmp_path, compose_command_line
):
    overrides = [*_overrides(dataset, f"paths.log_dir={tmp_path}"), "ckpt_path=last"]
    cfg = compose_command_line(tmp_path / "now", overrides)
    with pytest.raises(MuscallError) as error:
        prepare_resume(cfg)
    assert str(error.value) == (
        f"ckpt_path=last: no earlier run of this command to resume under {tmp_path / 'train'}; "
        "give ckpt_path=PATH"
    )
    with pytest.raises(MuscallError, match="no such checkpoint"):
        prepare_resume(compose_config(_overrides(dataset, f"ckpt_path={tmp_path}/x.ckpt")))


def test_ckpt_path_last_takes_the_newest_point_of_the_same_command(tmp_path, compose_command_line):
    def earlier_run(name, overrides, points):
        run = tmp_path / "train" / "2026-01-01" / name
        (run / ".hydra").mkdir(parents=True)
        OmegaConf.save(OmegaConf.create(overrides), run / ".hydra" / "overrides.yaml")
        (run / "config.yaml").write_text("{}")
        for point in points:
            (run / point).parent.mkdir(parents=True, exist_ok=True)
            (run / point).write_bytes(b"")
            time.sleep(0.01)  # distinct modification times
        return run

    command = ["seed=1", f"paths.log_dir={tmp_path}"]
    earlier_run("10-00-00", [*command, "ckpt_path=last"], ["checkpoints/last.ckpt"])
    newest = earlier_run("09-00-00", list(reversed(command)), ["hpc_ckpt_2.ckpt"])
    earlier_run("11-00-00", ["seed=2", f"paths.log_dir={tmp_path}"], ["checkpoints/last.ckpt"])
    cfg = compose_command_line(tmp_path / "now", [*command, "ckpt_path=last"])
    assert prepare_resume(cfg) == newest / "hpc_ckpt_2.ckpt"
    assert cfg.paths.output_dir == str(newest)  # a requeued job's folder: it goes on there


def test_trainer_slurm_composes_with_requeue_and_a_folder_per_job(
    tmp_path, monkeypatch, compose_command_line
):
    for key, value in {"SLURM_JOB_ID": "4242", "SLURM_NTASKS": "1", "SLURM_JOB_NAME": "x"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SLURM_PROCID", "0")
    monkeypatch.setenv("SLURM_LOCALID", "0")
    monkeypatch.setenv("SLURM_NODEID", "0")
    cfg = compose_config(["trainer=slurm"], tmp_path, return_hydra_config=True)
    assert OmegaConf.select(cfg, "hydra.run.dir").endswith("/train/slurm-4242")
    trainer = assembly.build_trainer(cfg, [])
    environment = trainer._accelerator_connector.cluster_environment
    assert isinstance(environment, SLURMEnvironment) and environment.auto_requeue
    assert environment.requeue_signal == signal.SIGUSR1
    assert isinstance(trainer.strategy.checkpoint_io, AtomicCheckpointIO)
