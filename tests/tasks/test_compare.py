"""task=compare: the keys that differ between runs, their metrics, best first, as CSV and Markdown."""

import csv
import json

import pytest
import yaml

from muscall.config import compose_config
from muscall.errors import MuscallError
from muscall.runs.folders import RunFolder, flatten
from muscall.tasks import compare

METRIC = "val/text_to_audio_R@10"


def _write_run(folder, lr, metrics=None, task="train", seed=0, hydra=False, failed=None):
    """A run folder as task=train leaves it: its config, then metrics.json once it finished."""
    config = {
        "task": {"name": task, "optimized_metric": METRIC, "optimized_mode": "max"},
        "model": {"optimizer": {"lr": lr, "betas": [0.9, 0.98]}},
        "seed": seed,
        # Paths of the run's own folder differ between any two runs, and are no difference.
        "paths": {"output_dir": str(folder)},
        "callbacks": {"last": {"dirpath": f"{folder}/checkpoints"}},
    }
    path = folder / ".hydra" / "config.yaml" if hydra else folder / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(config))
    if metrics is not None:
        (folder / "metrics.json").write_text(json.dumps(metrics))
    if failed is not None:
        (folder / "failed.json").write_text(json.dumps(failed))


def _compare(tmp_path, root, *overrides):
    out = tmp_path / "out"
    metrics = compare.run(compose_config(["task=compare", f"root={root}", *overrides], out))
    with (out / "compare.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    return metrics, rows, (out / "compare.md").read_text()


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    _write_run(root / "day1" / "a", 1e-3, {METRIC: 50.0, "val/mean_rank": 3.0, "epochs": 4.0})
    _write_run(root / "day1" / "b", 1e-4, {METRIC: 70.0, "val/mean_rank": 5.0, "epochs": 4.0})
    _write_run(root / "day2" / "c", 3e-4)  # never finished
    _write_run(root / "day2" / "d", 1e-2, {"R@10": 99.0}, task="retrieval")  # another task
    return root


def test_two_runs_differing_keys_sorted_by_their_metric(tmp_path, runs, capsys):
    metrics, rows, md = _compare(tmp_path, runs)
    assert [r["run"] for r in rows] == ["day1/b", "day1/a", "day2/c"]  # best first; unfinished last
    assert [r["status"] for r in rows] == ["finished", "finished", "unfinished"]
    # Only the learning rate differs: not the seed, not paths inside each run's folder.
    assert list(rows[0]) == ["run", "status", "model.optimizer.lr", METRIC, "epochs"]
    assert [float(r["model.optimizer.lr"]) for r in rows] == [1e-4, 1e-3, 3e-4]
    assert [r[METRIC] for r in rows] == ["70.0", "50.0", ""]
    assert metrics == {"runs": 3.0, "finished": 2.0, "failed": 0.0}

    printed = capsys.readouterr().out
    assert "3 runs under" in printed and f"sorted by {METRIC} (highest first)" in printed
    table = printed.splitlines()
    assert table[1].split() == ["run", "status", "model.optimizer.lr", METRIC, "epochs"]
    assert table[3].split() == ["day1/b", "finished", "0.0001", "70", "4"]
    assert md.splitlines()[2] == f"| run | status | model.optimizer.lr | {METRIC} | epochs |"
    assert md.splitlines()[4] == "| day1/b | finished | 0.0001 | 70 | 4 |"


def test_sort_by_another_metric_lowest_first_with_every_metric(tmp_path, runs):
    _, rows, _ = _compare(
        tmp_path, runs, "task.sort=val/mean_rank", "task.order=min", "task.metrics=null"
    )
    assert [r["run"] for r in rows] == ["day1/a", "day1/b", "day2/c"]
    assert list(rows[0])[3:] == ["val/mean_rank", "epochs", METRIC]


def test_runs_of_every_task(tmp_path, runs):
    _, rows, _ = _compare(tmp_path, runs, "task.runs_of=null", "task.metrics=[R@10]")
    assert {r["run"] for r in rows} == {"day1/a", "day1/b", "day2/c", "day2/d"}
    assert "task.name" in rows[0] and "R@10" in rows[0]


def test_a_multirun_folder_lists_failed_jobs_last_with_their_error(tmp_path):
    sweep = tmp_path / "multirun"
    _write_run(sweep / "0", 1e-3, {METRIC: 40.0}, hydra=True, seed=1)
    failure = {"error": "DivergenceError", "message": "training diverged: train/loss is nan"}
    _write_run(sweep / "1", 1e10, hydra=True, seed=2, failed=failure)
    _write_run(sweep / "2", 1e-4, {METRIC: 60.0}, hydra=True, seed=3)
    (sweep / "multirun.yaml").write_text("hydra: {}\n")
    metrics, rows, md = _compare(tmp_path, sweep)
    assert [(r["run"], r["status"]) for r in rows] == [
        ("2", "finished"),
        ("0", "finished"),
        ("1", "failed (DivergenceError)"),
    ]
    assert list(rows[0])[2:4] == ["model.optimizer.lr", "seed"]  # seeds differ here: shown
    assert "- 1: DivergenceError: training diverged: train/loss is nan" in md
    assert metrics["failed"] == 1.0


def test_no_runs_is_an_error_naming_the_root(tmp_path):
    with pytest.raises(MuscallError, match="no runs of task=train found"):
        _compare(tmp_path, tmp_path)
    with pytest.raises(MuscallError, match="not a folder of runs"):
        _compare(tmp_path, tmp_path / "nowhere")


def test_flatten_and_differing_keys_with_a_key_one_run_lacks():
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": {}}) == {"a.b": 1, "a.c": [1, 2], "d": {}}
    one = RunFolder("one", {"x": 1, "y": 2}, {}, None)
    two = RunFolder("two", {"x": 1}, {}, None)
    assert compare.differing_keys([one, two]) == ["y"]
