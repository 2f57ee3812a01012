"""Atomic writes: the target is the old file or the new one, never half of one."""

import pytest

from muscall.atomic import atomic_path, write_text


def test_a_write_replaces_the_file_and_leaves_nothing_beside_it(tmp_path):
    path = tmp_path / "sub" / "metrics.json"
    write_text(path, "old")
    write_text(path, "new")
    assert path.read_text() == "new" and [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_write_that_fails_keeps_the_old_file(tmp_path):
    path = tmp_path / "metrics.csv"
    write_text(path, "old")
    with pytest.raises(RuntimeError), atomic_path(path) as temporary:
        temporary.write_text("half")
        assert temporary.suffix == ".csv" and "metrics" not in temporary.name
        raise RuntimeError("killed")
    assert path.read_text() == "old" and list(tmp_path.iterdir()) == [path]
