"""Per-epoch training and validation metrics in the run folder: a CSV and a plot of curves.

So overfitting shows without wandb: the run folder says how validation evolved, not only
which epoch was best.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import pytorch_lightning as pl

# The curves drawn, panel by panel; every logged val/* metric goes to the CSV regardless.
PANELS = {
    "loss": ("train/loss", "val/loss"),
    "retrieval (%)": (
        "val/text_to_audio_R@1",
        "val/text_to_audio_R@10",
        "val/audio_to_text_R@10",
    ),
    "mean rank": ("val/text_to_audio_mean_rank", "val/audio_to_text_mean_rank"),
}


class MetricsHistory(pl.Callback):
    """Appends one row per validation to `metrics.csv` and redraws `curves.png`."""

    def __init__(self, dirpath: str | Path, plot: bool = True):
        self.dirpath = Path(dirpath)
        self.plot = plot
        self.rows: list[dict[str, float]] = []
        self._losses: list[float] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is not None:
            self._losses.append(float(loss))

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        row = {"epoch": trainer.current_epoch, "step": trainer.global_step}
        if self._losses:
            row["train/loss"] = sum(self._losses) / len(self._losses)
        self._losses = []
        for key, value in sorted(trainer.callback_metrics.items()):
            if key.startswith("val/") or key in ("train/lr", "train/logit_scale"):
                row[key] = float(value)
        self.rows.append(row)
        self.dirpath.mkdir(parents=True, exist_ok=True)
        self._write_csv(self.dirpath / "metrics.csv")
        if self.plot:
            self._draw(self.dirpath / "curves.png")

    def _write_csv(self, path: Path) -> None:
        columns = list(dict.fromkeys(key for row in self.rows for key in row))
        partial = path.with_name(path.name + ".partial")
        with partial.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(self.rows)
        os.replace(partial, path)

    def _draw(self, path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(PANELS), figsize=(5 * len(PANELS), 3.6))
        epochs = [row["epoch"] for row in self.rows]
        for ax, (title, keys) in zip(axes, PANELS.items(), strict=True):
            for key in keys:
                values = [row.get(key, math.nan) for row in self.rows]
                if not all(math.isnan(v) for v in values):
                    ax.plot(epochs, values, marker=".", label=key)
            ax.set_title(title)
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
            if ax.lines:
                ax.legend(fontsize=7)
        fig.tight_layout()
        partial = path.with_name(path.name + ".partial.png")
        fig.savefig(partial, dpi=90)
        plt.close(fig)
        os.replace(partial, path)
