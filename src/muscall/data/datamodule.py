"""The LightningDataModule: caption pairs for train/val/test, evaluation loaders for labelled sets."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Sampler

from muscall.data.bad_items import ON_BAD_ITEM, BadItemLog
from muscall.data.captions import SPLITS, CaptionedAudio, find_name, read_split, split_path
from muscall.data.datasets import (
    AudioCaptionDataset,
    ClipReader,
    LabelledAudioDataset,
    collate_pairs,
)
from muscall.data.labelled import LabelledSet
from muscall.data.sampling import SeededOrder, Shard, next_batch
from muscall.errors import DatasetError

log = logging.getLogger(__name__)


class AudioCaptionDataModule(pl.LightningDataModule):
    """Serves a dataset in MusCALL's layout, and evaluation loaders for labelled sets."""

    def __init__(
        self,
        root: str | Path,
        name: str | None,
        sample_rate: int,
        npy_sample_rate: int,
        clip_seconds: float,
        eval_clip_seconds: float | None,
        eval_crop: str,
        eval_hop_seconds: float | None,
        batch_size: int,
        eval_batch_size: int,
        num_workers: int,
        pin_memory: bool | None = None,
        tokenizer: Callable | None = None,
        bad_items_path: str | Path | None = None,
        zeroshot_sets: Mapping[str, str] | None = None,
        generate: Mapping | None = None,
        on_bad_item: str = "skip",
        seed: int | None = None,
        max_captions: int | None = None,
    ):
        """Built from the `data` config by Hydra; the run adds `tokenizer` and `bad_items_path`.

        `zeroshot_sets` are the labelled sets this dataset offers: accepted so the whole `data`
        config builds this object, but read from the config by `zeroshot=default` and served
        by `ZeroShotSets`, not here. `generate` is the built-in dataset's recipe, likewise
        accepted here and rendered, when missing, by the run that builds this object. `on_bad_item`: "skip" reports
        a bad file or entry and goes on; "fail" raises BadItemError naming it. `seed` (the
        run's) decides the training order and crops; None draws one, kept in checkpoints.
        """
        if on_bad_item not in ON_BAD_ITEM:
            raise DatasetError(f"data.on_bad_item must be skip or fail, got {on_bad_item!r}")
        super().__init__()
        if max_captions is not None and max_captions < 1:
            raise DatasetError(f"data.max_captions={max_captions}: keep at least one, or null")
        self.max_captions = max_captions
        self.root = Path(root).expanduser().resolve()
        self.name = name
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.tokenizer = tokenizer
        self.bad_items = BadItemLog(bad_items_path, fail=on_bad_item == "fail")
        common = dict(
            sample_rate=sample_rate, npy_sample_rate=npy_sample_rate, bad_items=self.bad_items
        )
        self.train_reader = ClipReader(clip_seconds=clip_seconds, mode="random", **common)
        if eval_crop not in ("centre", "windows"):
            raise DatasetError(f"data.eval_crop must be centre or windows, got {eval_crop!r}")
        self.eval_reader = ClipReader(
            clip_seconds=eval_clip_seconds or clip_seconds,
            mode=eval_crop,
            hop_seconds=eval_hop_seconds,
            **common,
        )
        self.splits: dict[str, list[CaptionedAudio]] = {}
        self.seed = seed if seed is not None else secrets.randbits(63)
        # (epoch, batch, world size) from a checkpoint
        self.resume_at: tuple[int, int, int] | None = None

    def setup(self, stage: str | None = None) -> None:
        wanted = {"fit": ("train", "val"), "validate": ("val",), "test": ("test",)}
        for split in wanted.get(stage, SPLITS):
            self.tracks(split)

    def tracks(self, split: str) -> list[CaptionedAudio]:
        """The tracks of a split, read once."""
        if split not in self.splits:
            self.name = find_name(self.root, self.name)
            tracks = read_split(self.root, self.name, split, self.bad_items)
            if self.max_captions:  # e.g. 1: the first caption form only, for train and eval
                tracks = [replace(t, captions=t.captions[: self.max_captions]) for t in tracks]
            self.splits[split] = tracks
            log.info("%s %s: %d tracks", self.name, split, len(self.splits[split]))
        return self.splits[split]

    def has_split(self, split: str) -> bool:
        """Whether the dataset has a file for `split` (an evaluation-only set has no train)."""
        return split_path(self.root, find_name(self.root, self.name), split).is_file()

    def train_dataloader(self) -> DataLoader:
        rank, world_size = self.ranks()
        self.agree_on_seed()
        dataset = AudioCaptionDataset(
            self.tracks("train"), self.train_reader, train=True, substitute=world_size > 1
        )
        order = SeededOrder(len(dataset), self.seed, rank, world_size, self.batch_size)
        if len(order) == 0:
            raise DatasetError(
                f"train split of {self.root} has {len(dataset)} tracks, fewer than the "
                f"{world_size} training processes (trainer.devices x trainer.num_nodes)"
            )
        # drop_last only when it leaves a batch: MusCALL's code, with 3 clips at batch 256, gave none.
        drop_last = len(order) > self.batch_size
        if not drop_last:
            log.warning(
                "train split gives %d tracks to each of %d processes, batch_size %d: "
                "using one smaller batch",
                len(order),
                world_size,
                self.batch_size,
            )
        if self.resume_at is not None:
            self._resume(order, *self.resume_at)
            self.resume_at = None
        return self._loader(dataset, self.batch_size, sampler=order, drop_last=drop_last)

    def _resume(self, order: SeededOrder, epoch: int, batch: int, saved_world: int) -> None:
        if saved_world != order.world_size:
            log.warning(
                "the checkpoint was saved by %d training processes, this run has %d: "
                "the rest of epoch %d is drawn anew from batch %d, not as it would have been",
                saved_world,
                order.world_size,
                epoch,
                batch,
            )
        order.resume_at(epoch, batch * self.batch_size)
        log.info("training data resumes at epoch %d, batch %d", epoch, batch)

    def agree_on_seed(self) -> None:
        """Rank 0's seed on every rank: one drawn per process (seed=null) would give each rank
        its own order, and the ranks' shares would overlap."""
        if self.ranks()[1] > 1:
            self.seed = self.trainer.strategy.broadcast(self.seed, src=0)

    def ranks(self) -> tuple[int, int]:
        """(global rank, world size) of this process in the trainer's run; (0, 1) without one."""
        if self.trainer is None:
            return 0, 1
        return self.trainer.global_rank, self.trainer.world_size

    def state_dict(self) -> dict:
        """Where the training order stands: what a checkpoint saved now resumes at.

        Here, not in the DataLoader's state: Lightning restores a loader's state only when
        resuming inside an epoch, and the order of the epoch after one also needs the seed.
        Under DDP `batch` counts each rank's batches, the same on every rank.
        """
        if self.trainer is None:
            return {"seed": self.seed}
        epoch, batch = next_batch(self.trainer)
        world_size = self.ranks()[1]
        return {"seed": self.seed, "epoch": epoch, "batch": batch, "world_size": world_size}

    def load_state_dict(self, state_dict: dict) -> None:
        self.seed = int(state_dict["seed"])
        if "epoch" in state_dict:
            saved_world = int(state_dict.get("world_size", 1))
            self.resume_at = (int(state_dict["epoch"]), int(state_dict["batch"]), saved_world)

    def val_dataloader(self) -> DataLoader:
        return self.pairs_loader("val")

    def test_dataloader(self) -> DataLoader:
        return self.pairs_loader("test")

    def pairs_loader(self, split: str) -> DataLoader:
        """Evaluation crops (centre or whole-track windows) of a split, first caption, in order."""
        dataset = AudioCaptionDataset(self.tracks(split), self.eval_reader, train=False)
        shard = self._eval_shard(dataset, f"the {split} split of {self.root}")
        return self._loader(dataset, self.eval_batch_size, sampler=shard)

    def labelled_loader(self, labelled: LabelledSet) -> DataLoader:
        """Evaluation crops of a labelled (zero-shot) set's clips, in order."""
        dataset = LabelledAudioDataset(labelled.audio_paths, self.eval_reader)
        shard = self._eval_shard(dataset, f"zero-shot set {labelled.name}")
        return self._loader(dataset, self.eval_batch_size, sampler=shard)

    def _eval_shard(self, dataset, what: str) -> Shard | None:
        """Under DDP this rank's part of an evaluation set; the module gathers the parts."""
        rank, world_size = self.ranks()
        if world_size == 1:
            return None
        if len(dataset) < world_size:
            # Lightning skips the evaluation of a process with no batch, hooks and all, and
            # the others would wait for it in the gather of the results.
            raise DatasetError(
                f"{what} has {len(dataset)} tracks, fewer than the {world_size} processes: "
                "each needs at least one to evaluate"
            )
        return Shard(len(dataset), rank, world_size)

    def pins_memory(self) -> bool:
        """`pin_memory`, or with None, whether the trainer feeds a CUDA device."""
        if self.pin_memory is not None:
            return bool(self.pin_memory)
        return self.trainer is not None and self.trainer.strategy.root_device.type == "cuda"

    def _loader(
        self, dataset, batch_size: int, sampler: Sampler | None = None, drop_last: bool = False
    ) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=sampler,
            drop_last=drop_last,
            num_workers=self.num_workers,
            pin_memory=self.pins_memory(),
            persistent_workers=self.num_workers > 0,
            collate_fn=collate_pairs(self.tokenizer),
            # Its own generator for the workers' base seed: making a loader's iterator then
            # leaves the global RNG (dropout, ...) alone, as a resumed run needs.
            generator=torch.Generator().manual_seed(self.seed),
        )
