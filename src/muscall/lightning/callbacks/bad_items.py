"""Counting the bad items a run skipped: logged each epoch, summed up when fitting ends."""

from __future__ import annotations

from collections import Counter

import pytorch_lightning as pl


class BadItemCount(pl.Callback):
    """Logs `train/bad_items` (items skipped so far) and prints where they are listed.

    Counts the DataModule's `bad_items` list (`bad_items.jsonl`), which DataLoader workers
    append to, so items skipped in every process count, each once.
    """

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        records = _records(trainer)
        if records is not None:
            # Every process reads the one shared list: the max over processes is that count.
            pl_module.log(
                "train/bad_items",
                float(len(records)),
                on_epoch=True,
                sync_dist=True,
                reduce_fx="max",
            )

    def on_fit_end(self, trainer, pl_module) -> None:
        records = _records(trainer)
        if not records or not trainer.is_global_zero:
            return
        kinds = Counter(record.get("kind", "undecodable") for record in records)
        counts = ", ".join(f"{kind} {count}" for kind, count in kinds.most_common())
        where = trainer.datamodule.bad_items.path or "the log above"
        print(f"{len(records)} bad items skipped ({counts}), listed in {where}")


def _records(trainer) -> list[dict] | None:
    bad_items = getattr(getattr(trainer, "datamodule", None), "bad_items", None)
    return None if bad_items is None else bad_items.read()
