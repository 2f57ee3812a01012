"""bench/hf_towers.py writes a step time and a peak memory for each base-size tower."""

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "hf_towers.py"


@pytest.mark.slow
def test_each_case_reports_its_own_step_and_peak(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_hf_towers", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "hf.json"
    bench.main(["--batch", "1", "--seconds", "0.5", "--steps", "1", "--out", str(out)])
    rows = {row["case"]: row for row in json.loads(out.read_text())["cases"]}
    assert set(rows) == {"wav2vec2-base", "roberta-base"}
    # Base sizes: wav2vec2-base ~94 M weights, roberta-base ~124 M (its full token table).
    assert rows["wav2vec2-base"]["tower_parameters_millions"] > 90
    assert rows["roberta-base"]["tower_parameters_millions"] > 120
    assert all(
        row["median_step_seconds"] > 0 and row["peak_rss_mib"] > 100 for row in rows.values()
    )
