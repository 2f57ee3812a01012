"""A training step never waits for the device: nothing reads a tensor back to the host
between one batch and the next (the module, the loss and every default callback)."""

from __future__ import annotations

import traceback
from collections import Counter

import pytorch_lightning as pl
import torch

from muscall.config import compose_config
from muscall.lightning import MusCALLModule
from muscall.runs import assembly
from muscall.tasks import train
from tests.helpers.datasets import tiny_run, write_tiny_dataset

STEPS = 12


class _HostReads:
    """Counts Tensor.item / float() / bool() made by this project or Lightning while on."""

    def __init__(self, monkeypatch):
        self.on, self.reads = False, Counter()
        for name in ("item", "__float__", "__bool__"):
            monkeypatch.setattr(torch.Tensor, name, self._counted(getattr(torch.Tensor, name)))

    def _counted(self, read):
        def counted(tensor, *args, **kwargs):
            if self.on:
                caller = traceback.extract_stack(limit=2)[0]  # the frame that read
                if "torch/utils/data" not in caller.filename:  # the loader's own CPU seed
                    self.reads[f"{caller.filename}:{caller.lineno}"] += 1
            return read(tensor, *args, **kwargs)

        return counted


def test_no_training_step_reads_a_tensor_back(tmp_path, monkeypatch):
    reads = _HostReads(monkeypatch)

    class Window(pl.Callback):  # the first callback: on from a batch's start to validation
        def on_train_batch_start(self, *args):
            reads.on = True

        def on_validation_start(self, *args):
            reads.on = False

        def on_train_epoch_end(self, *args):
            reads.on = False

    build = assembly.build_trainer

    def with_window(cfg, loggers):
        trainer = build(cfg, loggers)
        trainer.callbacks.insert(0, Window())
        return trainer

    monkeypatch.setattr(assembly, "build_trainer", with_window)
    # As on a GPU, where the progress bar goes without the loss (see MusCALLModule).
    monkeypatch.setattr(MusCALLModule, "_loss_in_bar", lambda self: False)
    data = write_tiny_dataset(tmp_path / "tiny", counts=(4 * STEPS, 8, 8))
    overrides = tiny_run(
        data,
        "trainer.max_epochs=1",
        "trainer.log_every_n_steps=50",
        "task.test_after_fit=false",
        "task.zeroshot_after_fit=false",
        f"paths.output_dir={tmp_path / 'out'}",
    )
    metrics = train.run(compose_config(overrides))
    assert metrics["steps"] == STEPS
    assert not reads.reads, reads.reads
