"""MetricsHistory: one row per validation in metrics.csv, and curves.png beside it."""

import csv
import math
from pathlib import Path

import pytest
import torch

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


class _Trainer:
    sanity_checking, is_global_zero = False, True

    def __init__(self, epoch, step, metrics):
        self.current_epoch, self.global_step, self.callback_metrics = epoch, step, metrics


def test_a_resumed_history_goes_on_with_the_rows_and_loss_of_its_checkpoint(tmp_path):
    from muscall.lightning.callbacks.history import MetricsHistory

    first = MetricsHistory(tmp_path, plot=False)
    first.on_train_batch_end(None, None, {"loss": torch.tensor(2.0)}, None, 0)
    first.on_validation_end(_Trainer(0, 1, {"val/loss": 1.5}), None)
    first.on_train_batch_end(None, None, {"loss": torch.tensor(1.0)}, None, 1)
    state = first.state_dict()  # a step checkpoint halfway through epoch 1

    resumed = MetricsHistory(tmp_path, plot=False)
    resumed.load_state_dict(state)
    resumed.on_train_batch_end(None, None, {"loss": torch.tensor(0.5)}, None, 2)
    resumed.on_validation_end(_Trainer(1, 3, {"val/loss": 1.0}), None)
    rows = _rows(tmp_path)
    assert [(r["epoch"], r["train/loss"]) for r in rows] == [("0", "2.0"), ("1", "0.75")]
