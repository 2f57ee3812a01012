"""The built-in dataset on demand: processes that want it at once render it once."""

import multiprocessing
import time

from muscall.synth import dataset_matches
from muscall.synth.builtin import ensure_builtin_dataset, exclusive, lock_path
from muscall.synth.manifest import MARKER

RECIPE = {"num_clips": 4, "clip_seconds": 1.0, "seed": 5, "workers": 1}


def _ensure(root, start, results):
    """One process of a sweep starting: waits for the others, then asks for the dataset."""
    start.wait()
    summary = ensure_builtin_dataset(root, {"root": str(root), **RECIPE})
    results.put(summary["built"])


def _start(context, root, start, results):
    process = context.Process(target=_ensure, args=(root, start, results))
    process.start()
    return process


def test_two_processes_at_once_render_the_dataset_once(tmp_path):
    root = tmp_path / "synthmusic"
    # spawn: a fork of a process running torch threads can deadlock.
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    processes = [_start(context, root, start, results) for _ in range(2)]
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    # Without the lock both see no dataset, and both build (the second clearing the first).
    assert sorted(results.get(timeout=5) for _ in processes) == [False, True]
    assert dataset_matches(root, **RECIPE)
    assert not (root / MARKER).exists() and not list(root.rglob("*.partial"))
    assert lock_path(root).parent == root.parent  # beside the dataset, never in it


def test_a_process_waits_while_another_holds_the_lock(tmp_path):
    root = tmp_path / "synthmusic"
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(1), context.Queue()
    with exclusive(lock_path(root)):
        process = _start(context, root, start, results)
        time.sleep(3)  # long enough to import and render 4 clips, were it not waiting
        assert process.is_alive() and not root.exists()
    process.join(timeout=120)
    assert process.exitcode == 0 and results.get(timeout=5) is True
    assert dataset_matches(root, **RECIPE)


def test_a_root_that_is_not_the_builtin_home_is_left_alone(tmp_path):
    mine = tmp_path / "mine"
    generate = {"root": str(tmp_path / "synthmusic"), **RECIPE}
    assert ensure_builtin_dataset(mine, generate) is None
    assert ensure_builtin_dataset(mine, None) is None
    assert list(tmp_path.iterdir()) == []
