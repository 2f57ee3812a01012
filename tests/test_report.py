import json
import math

from muscall.report import format_table, write_metrics


def test_metrics_json_is_valid_even_with_nan(tmp_path):
    path = write_metrics({"a": 1.5, "b": math.nan, "best_checkpoint": "x.ckpt"}, tmp_path / "run")
    assert json.loads(path.read_text()) == {"a": 1.5, "b": None, "best_checkpoint": "x.ckpt"}


def test_table_lists_every_metric_sorted():
    table = format_table({"z": 2.0, "a": 1.0, "path": "p"}, "title")
    lines = table.splitlines()
    assert lines[0] == "title"
    assert [line.split()[0] for line in lines[2:]] == ["a", "path", "z"]
    assert "2.000" in lines[-1]
