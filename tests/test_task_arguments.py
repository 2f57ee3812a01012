"""One rule for task arguments: a root key in the task's own file; former `task.` spellings still
work, each with a one-line notice naming the new form."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
import yaml

from muscall.config import CONFIG_DIR, PROJECT_ROOT, compose_config
from muscall.task_arguments import MOVED, upgrade_overrides

TASK_FILES = sorted((CONFIG_DIR / "task").glob("*.yaml"))


@pytest.mark.parametrize("path", TASK_FILES, ids=lambda p: p.stem)
def test_every_task_file_puts_its_arguments_at_the_root(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# @package _global_\n")
    body = yaml.safe_load(text)
    assert body["task"]["name"] == path.stem and body["task"]["run"].endswith(f".{path.stem}.run")
    # The task defaults are the root config's; a task file states them only to differ.
    for key in ("optimized_metric", "optimized_mode"):
        assert body["task"].get(key, "given") is not None, f"{path.name} repeats task.{key}: null"


def test_task_defaults_are_declared_once_and_reach_every_task():
    for path in TASK_FILES:
        extra = [f"source={PROJECT_ROOT}"] if path.stem == "prepare" else []
        cfg = compose_config([f"task={path.stem}", *extra])
        assert "optimized_metric" in cfg.task and "optimized_mode" in cfg.task


@pytest.mark.parametrize(
    ("task", "old", "new", "key", "value"),
    [
        ("shard", "task.out=/tmp/shards", "out=/tmp/shards", "out", "/tmp/shards"),
        ("index", "task.workers=3", "workers=3", "workers", 3),
        ("validate", "task.workers=0", "workers=0", "workers", 0),
        ("prepare", "task.workers=2", "workers=2", "workers", 2),
        ("retrieval", "task.split=val", "split=val", "split", "val"),
        ("search", "task.k=20", "k=20", "k", 20),
    ],
)
def test_a_former_spelling_is_read_as_the_new_one_with_a_notice(task, old, new, key, value, caplog):
    extra = [f"source={PROJECT_ROOT}"] if task == "prepare" else []
    with caplog.at_level(logging.WARNING, logger="muscall"):
        cfg = compose_config([f"task={task}", old, *extra])
    assert cfg[key] == value and key not in cfg.task
    notices = [r.getMessage() for r in caplog.records]
    assert len(notices) == 1 and f"is now {key}=" in notices[0] and new in notices[0]
    assert compose_config([f"task={task}", new, *extra])[key] == value


def test_only_moved_keys_are_rewritten_and_prefixes_are_kept():
    given = ["-m", "task.examples=2", "++task.out=x", "~task.k", "data.workers=1", "task.outdir=y"]
    assert upgrade_overrides(given) == ["-m", "task.examples=2", "++out=x", "~k", *given[4:]]
    assert set(MOVED.values()) == {"out", "workers", "split", "k"}


def test_the_entrypoint_takes_the_former_spelling_and_names_the_new_one(tmp_path):
    # --cfg job prints the composed config and stops: no task runs.
    command = [sys.executable, str(PROJECT_ROOT / "src" / "run.py"), "task=shard",
               f"task.out={tmp_path}/shards", "--cfg", "job"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    assert "task.out is now out=" in done.stderr
    assert yaml.safe_load(done.stdout)["out"] == f"{tmp_path}/shards"
