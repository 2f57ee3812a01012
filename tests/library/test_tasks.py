"""task=index and task=search as a user runs them: composed configs, and one real command."""

import subprocess
import sys
from pathlib import Path

import pytest

from muscall.config import PROJECT_ROOT, compose_config
from muscall.errors import MuscallError
from muscall.tasks import index as index_task
from muscall.tasks import search as search_task

from .conftest import copy_library


@pytest.fixture(scope="module")
def indexed_by_task(indexed_library, tmp_path_factory, tiny_checkpoint):
    base = tmp_path_factory.mktemp("task")
    root, index_dir = copy_library(indexed_library, base)
    overrides = ["task=index", f"ckpt_path={tiny_checkpoint}", f"source={root}",
                 f"index={index_dir}", "workers=0", "task.progress=false"]  # fmt: skip
    metrics = index_task.run(compose_config(overrides, base / "run"))
    return {"root": root, "index_dir": index_dir, "metrics": metrics, "overrides": overrides}


def test_task_index_reports_what_it_did(indexed_by_task, tmp_path):
    assert indexed_by_task["metrics"] == {"num_tracks": 20.0, "embedded": 20.0, "kept": 0.0,
                                          "reused": 0.0, "removed": 0.0, "skipped": 2.0}  # fmt: skip
    again = index_task.run(compose_config(indexed_by_task["overrides"], tmp_path))
    assert again["kept"] == 20.0 and again["embedded"] == 0.0


def test_task_search_by_text_and_by_audio(indexed_by_task, tmp_path, capsys):
    base = ["task=search", f"index={indexed_by_task['index_dir']}", "k=4"]
    metrics = search_task.run(compose_config([*base, "query=warm jazz piano trio"], tmp_path))
    lines = capsys.readouterr().out.strip().splitlines()
    assert metrics["num_results"] == 4.0 and len(lines) == 4
    score, path = lines[0].split("\t")
    assert float(score) == pytest.approx(metrics["top_score"], abs=1e-4)
    assert Path(path).is_relative_to(indexed_by_task["root"]) and Path(path).is_file()

    track = indexed_by_task["root"] / "artist2" / "album1" / "track05.flac"
    search_task.run(
        compose_config([*base, f"query_audio={track}", "library.backend=faiss"], tmp_path)
    )
    first = capsys.readouterr().out.splitlines()[0].split("\t")
    assert first[1] == str(track) and float(first[0]) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["query=a", "query_audio=b.wav"], "not both"),
        ([], "give one"),
        (["query=a", "k=0"], "k=0"),
        (["query_audio=/no/such.wav"], "not found"),
    ],
)
def test_task_search_refuses_bad_requests_by_name(indexed_by_task, tmp_path, overrides, message):
    cfg = compose_config(
        ["task=search", f"index={indexed_by_task['index_dir']}", *overrides], tmp_path
    )
    with pytest.raises(MuscallError, match=message):
        search_task.run(cfg)


def test_task_index_refuses_a_missing_folder_and_defaults_outside_it(tmp_path, tiny_checkpoint):
    cfg = compose_config(["task=index", f"ckpt_path={tiny_checkpoint}", f"source={tmp_path}/nope"])
    with pytest.raises(MuscallError, match="source=.*folder not found"):
        index_task.run(cfg)
    cfg = compose_config(["task=index", f"source={tmp_path}"])
    assert (
        index_task.index_folder(cfg, tmp_path) == PROJECT_ROOT / "outputs" / "index" / tmp_path.name
    )
    with pytest.raises(MuscallError, match="no library index"):
        search_task.run(compose_config(["task=search", f"index={tmp_path}", "query=x"], tmp_path))


def test_search_from_the_command_line(indexed_by_task, tmp_path):
    command = [sys.executable, "src/run.py", "task=search", f"index={indexed_by_task['index_dir']}",
               "query=warm jazz piano trio", "k=3", f"hydra.run.dir={tmp_path}"]  # fmt: skip
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 3 and all(Path(line.split("\t")[1]).is_file() for line in lines)
    assert float(lines[0].split("\t")[0]) >= float(lines[2].split("\t")[0])


def test_task_search_draws_a_map_of_the_whole_library(indexed_by_task, tmp_path, capsys):
    out = tmp_path / "library.png"
    cfg = compose_config(
        ["task=search", f"index={indexed_by_task['index_dir']}", f"map={out}"], tmp_path / "r"
    )
    metrics = search_task.run(cfg)
    assert metrics == {"num_results": 0.0, "tracks": 20.0}
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    assert str(out) in capsys.readouterr().out
