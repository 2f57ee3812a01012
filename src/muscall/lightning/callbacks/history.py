"""Per-epoch training and validation metrics in the run folder: a CSV and a plot of curves.

So overfitting shows without wandb: the run folder says how validation evolved, not only
which epoch was best.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytorch_lightning as pl

from muscall.atomic import atomic_path, write_text

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
    """Appends one row per validation to `metrics.csv` and redraws `curves.png`.

    The rows and the running training loss are in every checkpoint, so a resumed run goes on
    with the same file: the rows up to its checkpoint, then its own.
    """

    def __init__(self, dirpath: str | Path, plot: bool = True):
        self.dirpath = Path(dirpath)
        self.plot = plot
        self.rows: list[dict[str, float]] = []
        self._loss_sum = 0.0  # the training loss since the last validation, summed
        self._loss_count = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is not None:
            # Summed where the loss is: float() here would wait for the device every step.
            self._loss_sum = self._loss_sum + loss.detach().float()
            self._loss_count += 1

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        row = {"epoch": trainer.current_epoch, "step": trainer.global_step}
        if self._loss_count:
            row["train/loss"] = float(self._loss_sum) / self._loss_count
        self._loss_sum, self._loss_count = 0.0, 0
        for key, value in sorted(trainer.callback_metrics.items()):
            if key.startswith("val/") or key in ("train/lr", "train/logit_scale"):
                row[key] = float(value)
        self.rows.append(row)
        self.dirpath.mkdir(parents=True, exist_ok=True)
        self._write_csv(self.dirpath / "metrics.csv")
        if self.plot:
            self._draw(self.dirpath / "curves.png")

    def state_dict(self) -> dict:
        # Plain numbers and strings: checkpoints load with weights_only=True.
        loss_sum = float(self._loss_sum)
        return {"rows": self.rows, "loss_sum": loss_sum, "loss_count": self._loss_count}

    def load_state_dict(self, state_dict: dict) -> None:
        self.rows = [dict(row) for row in state_dict["rows"]]
        self._loss_sum = float(state_dict["loss_sum"])
        self._loss_count = int(state_dict["loss_count"])

    def _write_csv(self, path: Path) -> None:
        columns = list(dict.fromkeys(key for row in self.rows for key in row))
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(self.rows)
        write_text(path, text.getvalue())

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
        with atomic_path(path) as partial:
            fig.savefig(partial, dpi=90)
        plt.close(fig)
