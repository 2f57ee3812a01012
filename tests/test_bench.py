"""bench/run.py --quick: the paired benchmark runs end to end and writes its JSON."""

import importlib.util
import json
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[1] / "bench" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_writes_the_paired_figures(bench, tmp_path, capsys):
    out = tmp_path / "speed.json"
    bench.main(["--quick", "--device", "cpu", "--batch-sizes", "2", "--out", str(out)])
    result = json.loads(out.read_text())
    assert {"train", "embedding", "parameters_millions", "device", "precision"} <= set(result)
    (row,) = result["train"]
    # One round: the speed-up is the ratio of that round's two step times.
    (original,), (ours,) = row["original_step_seconds"], row["ours_step_seconds"]
    assert row["speedup"] == pytest.approx(original / ours)
    assert row["ours_pairs_per_second"] == pytest.approx(2 / ours)
    # The baseline pads to 77 tokens as the original does; ours trims to the batch's longest.
    assert row["text_tokens"]["original"] == 77 > row["text_tokens"]["ours"]
    embedding = result["embedding"]
    assert all(embedding[f"{s}_captions_per_second"] > 0 for s in ("original", "ours"))
    assert "ours/original" in capsys.readouterr().out
