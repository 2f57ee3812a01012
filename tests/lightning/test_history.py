"""MetricsHistory: one row per validation in metrics.csv, and curves.png beside it."""

import csv
import math
from pathlib import Path

import pytest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _rows(out):
    with (out / "metrics.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_a_three_epoch_run_writes_three_rows_and_a_plot(small_run):
    out = small_run["out"]
    rows = _rows(out)
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert [int(r["step"]) for r in rows] == [3, 6, 9]  # 24 tracks in batches of 8
    columns = rows[0].keys()
    for key in ("train/loss", "val/loss", "val/text_to_audio_R@10", "val/text_to_audio_mean_rank"):
        assert key in columns, key
        assert all(math.isfinite(float(r[key])) for r in rows), key
    # The epoch's mean training loss, and training does lower it.
    assert float(rows[-1]["train/loss"]) < float(rows[0]["train/loss"])
    curves = out / "curves.png"
    assert curves.read_bytes()[:8] == PNG_MAGIC and curves.stat().st_size > 1000
    assert not list(out.glob("*.partial*"))  # written whole, then renamed into place


def test_the_history_names_the_epoch_that_was_kept(small_run):
    rows = _rows(small_run["out"])
    metrics = small_run["metrics"]

    def rank(row):  # the best R@10, ties to the lower mean rank, then the earlier epoch
        r10 = float(row["val/text_to_audio_R@10"])
        return (-r10, float(row["val/text_to_audio_mean_rank"]), int(row["epoch"]))

    chosen = min(rows, key=rank)
    assert metrics["val/text_to_audio_R@10"] == pytest.approx(
        float(chosen["val/text_to_audio_R@10"])
    )
    assert Path(metrics["best_checkpoint"]).name.startswith(f"best-epoch{int(chosen['epoch']):03d}")
