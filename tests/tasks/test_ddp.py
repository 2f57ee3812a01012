"""DDP: `trainer=ddp` runs as one run, its side effects written once, and the launchers'
ranks are told apart before any trainer exists."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from muscall.checkpoint import load_checkpoint
from muscall.config import PROJECT_ROOT
from muscall.data.bad_items import BadItemLog
from muscall.runs.assembly import RANK_VARIABLES, first_process
from tests.helpers.datasets import tiny_run, write_tiny_dataset

# 16 training tracks, 2 ranks of batch 4: 2 steps an epoch (one process would take 4).
TRAIN_TRACKS, RANKS, BATCH = 16, 2, 4


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    """One 1-epoch run of `python src/run.py trainer=ddp` on 2 CPU processes (gloo).

    One training file is missing: the rank that draws it must stand another in, not skip.
    """
    root = tmp_path_factory.mktemp("ddp")
    data = write_tiny_dataset(root / "tiny", counts=(TRAIN_TRACKS, 6, 6))
    entries = json.loads((data / "tiny_train.json").read_text())
    (data / entries[5]["audio_path"]).unlink()
    settings = ["trainer=ddp", "trainer.accelerator=cpu", f"trainer.devices={RANKS}"]
    settings += ["trainer.max_epochs=1", "task.zeroshot_after_fit=false", "seed=3"]
    settings += ["task.check_leakage=false", "plots.enabled=false", f"paths.log_dir={root}/out"]
    # Never inside a SLURM job or torchrun here: Lightning's own launcher starts rank 1.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    for name in (*RANK_VARIABLES, "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "WANDB_SERVICE"):
        env.pop(name, None)
    command = [sys.executable, "src/run.py", *tiny_run(data, *settings, batch_size=BATCH)]
    with (root / "stdout").open("w+") as stdout, (root / "stderr").open("w+") as stderr:
        # Its own session: a timeout ends rank 1 too, which Lightning started from rank 0.
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=stdout, stderr=stderr, start_new_session=True
        )
        try:
            process.wait(timeout=240)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        stdout.seek(0), stderr.seek(0)
        done = subprocess.CompletedProcess(
            command, process.returncode, stdout.read(), stderr.read()
        )
    assert done.returncode == 0, done.stderr[-3000:]
    return done, root / "out", entries[5]["audio_id"]


def test_ddp_run_writes_one_folder_one_config_one_metrics_one_table(ddp_run):
    done, out, _ = ddp_run
    runs = [p.parent for p in out.rglob("config.yaml") if p.parent.name != ".hydra"]
    assert len(runs) == 1
    run = runs[0]
    assert len(list(out.rglob("metrics.json"))) == 1
    assert (run / "train_ddp_process_1.log").is_file()  # rank 1 ran in this folder, too
    assert not (run / ".pl_hydra_rank_1").exists()
    assert done.stdout.count("task=train ->") == 1
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["steps"] == TRAIN_TRACKS // (RANKS * BATCH)  # each rank its half
    assert "val/text_to_audio_R@10" in metrics
    assert metrics["test/num_tracks"] == 6  # rank 0 alone evaluated the whole test split


def test_ddp_run_checkpoints_load_and_a_bad_item_is_listed_once(ddp_run):
    _, out, bad_id = ddp_run
    (run,) = [p.parent for p in out.rglob("config.yaml") if p.parent.name != ".hydra"]
    checkpoints = sorted((run / "checkpoints").glob("*.ckpt"))
    assert {p.name for p in checkpoints} >= {"last.ckpt"} and len(checkpoints) == 2
    for path in checkpoints:
        assert load_checkpoint(path).net is not None
    records = BadItemLog(run / "bad_items.jsonl").read()
    assert [r["audio_id"] for r in records] == [bad_id]


@pytest.mark.parametrize(
    ("variables", "first"),
    [
        ({}, True),
        ({"LOCAL_RANK": "1", "NODE_RANK": "0"}, False),  # Lightning's launcher, rank 1
        ({"NODE_RANK": "1"}, False),  # Lightning's launcher, a second machine
        ({"SLURM_PROCID": "0", "LOCAL_RANK": "1"}, False),  # ... inside a SLURM job
        ({"SLURM_PROCID": "3"}, False),  # srun
        ({"SLURM_PROCID": "0"}, True),
        ({"RANK": "0", "LOCAL_RANK": "0"}, True),  # torchrun
        ({"RANK": "2", "LOCAL_RANK": "0"}, False),
    ],
)
def test_first_process_is_told_by_every_launchers_variables(monkeypatch, variables, first):
    for name in RANK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert first_process() is first
