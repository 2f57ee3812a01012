"""bench/grad_cache.py and bench/gpu.py --dry-run run end to end at tiny sizes on a CPU."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_grad_cache_benchmark_writes_memory_and_the_off_ratio(tmp_path):
    out = tmp_path / "grad-cache.json"
    argv = ["--plain", "8", "--cached", "16", "--chunk", "4", "--seconds", "0.25"]
    argv += ["--rounds", "2", "--off-batch", "4", "--loss-batches", "256", "--out", str(out)]
    _load("grad_cache").main(argv)
    result = json.loads(out.read_text())
    plain, cached = result["rows"]
    assert (plain["chunk"], cached["chunk"]) == (None, 4)
    assert cached["step_peak_mb"] == pytest.approx(
        cached["peak_rss_mb"] - cached["rss_before_step_mb"]
    )
    assert result["loss_alone"][0]["loss_peak_mb"] > 0
    off = result["off_costs"]
    assert len(off["paired_ratios"]) == 2 and off["off_over_before_median"] > 0


@pytest.mark.slow
def test_the_gpu_run_dry_runs_its_batch_search_and_ddp_on_a_cpu(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["gpu.py"])
    gpu = _load("gpu")
    summary = gpu.main(["--dry-run", "--out-dir", str(tmp_path), "--only", "largest_batch", "ddp"])
    assert set(summary["stages"]) == {"largest_batch", "ddp"}
    result = json.loads((tmp_path / "grad-cache-gpu-dryrun-cpu.json").read_text())
    cached = result["largest_batch"]["cached"]
    assert cached["largest"] is not None and cached["chunk"] == gpu.DRY["chunk"]
    assert {"plain", "cached"} <= set(result["ddp"]) and result["ddp"]["backend"] == "gloo"
