"""The DataModule of `data=webdataset`: training (and validation) streamed from tar shards.

Everything else is the folder DataModule's: evaluation crops, zero-shot sets, and the test
split, read from `data.root` when one is given.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from omegaconf import ListConfig
from torch.utils.data import DataLoader

from muscall.data.captions import CaptionedAudio
from muscall.data.containment import OutsideFolder, resolve_inside
from muscall.data.datamodule import AudioCaptionDataModule
from muscall.data.datasets import collate_pairs
from muscall.data.shards.format import MANIFEST, read_manifest
from muscall.data.shards.streaming import EpochLoader, EvalStream, SampleDecoder, TrainStream
from muscall.errors import DatasetError
from muscall.extras import SHARDS_FEATURE, load

expand_urls = load("webdataset.shardlists", "shards", SHARDS_FEATURE).expand_urls

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShardSet:
    """The shard URLs of one split, and how many samples they hold when a manifest says."""

    urls: list[str]
    count: int | None
    manifest: dict | None


def _is_local(url: str) -> bool:
    return not url.startswith("pipe:") and "://" not in url


def _local_path(url: str) -> Path:
    return Path(url.removeprefix("file:")).expanduser()


def resolve_shards(spec, split: str, key: str) -> ShardSet:
    """`spec`: a shard folder (its manifest's `split`), a brace pattern, or a list of URLs.

    Local shards that are missing raise DatasetError naming `key` and the first missing URL.
    """
    specs = [str(s) for s in spec] if isinstance(spec, list | ListConfig) else [str(spec)]
    if len(specs) == 1 and _is_local(specs[0]) and _local_path(specs[0]).is_dir():
        folder = _local_path(specs[0])
        manifest = read_manifest(folder / MANIFEST)
        entry = manifest["splits"].get(split)
        if not entry or not entry.get("shards"):
            raise DatasetError(f"{key}={specs[0]}: its {MANIFEST} lists no {split} shards")
        urls = [str(_shard_in(folder, name)) for name in entry["shards"]]
        return ShardSet(urls, int(entry["count"]), manifest)
    urls = [url for s in specs for url in expand_urls(s)]
    if not urls:
        raise DatasetError(f"{key}: no shard URLs given")
    missing = [u for u in urls if _is_local(u) and not _local_path(u).is_file()]
    if missing:
        raise DatasetError(
            f"{key}: {len(missing)} of {len(urls)} shards not found, e.g. {missing[0]}"
        )
    return ShardSet(urls, *_counted(urls))


def _shard_in(folder: Path, name: object) -> Path:
    """A shard its manifest names, which must lie inside the manifest's folder."""
    try:
        return resolve_inside(folder, name)
    except (OutsideFolder, TypeError) as error:
        raise DatasetError(f"{folder / MANIFEST}: shard {name!r} refused: {error}") from None


def _counted(urls: list[str]) -> tuple[int | None, dict | None]:
    """The sample count of `urls` from the manifest beside the first, when it lists them all."""
    if not _is_local(urls[0]):
        return None, None
    path = _local_path(urls[0]).parent / MANIFEST
    if not path.is_file():
        return None, None
    manifest = read_manifest(path)
    counts = {
        name: n
        for entry in manifest["splits"].values()
        for name, n in zip(entry["shards"], entry["counts"], strict=True)
    }
    names = [_local_path(u).name for u in urls]
    if not all(name in counts for name in names):
        return None, manifest
    return sum(counts[name] for name in names), manifest


class ShardDataModule(AudioCaptionDataModule):
    """Streams `urls` for training; validation from `val_urls`, `root` or the shards' manifest."""

    def __init__(
        self,
        urls,
        val_urls=None,
        epoch_length: int | None = None,
        shuffle_buffer: int = 500,
        root: str | Path | None = None,
        **folder,
    ):
        """`folder`: every key of the folder DataModule (data/folder.yaml), `root` optional.

        `epoch_length`: training samples per epoch, over all GPUs (null: the count in the
        shards' manifest). `shuffle_buffer`: samples each reader mixes (0: shard order).
        """
        # The folder DataModule needs a root; without one it serves nothing from a folder.
        super().__init__(root=root if root is not None else ".", **folder)
        if root is None:
            self.root = None
        if shuffle_buffer < 0:
            raise DatasetError(f"data.shuffle_buffer={shuffle_buffer}: must be 0 or more")
        self.urls, self.val_urls = urls, val_urls
        self.epoch_length, self.shuffle_buffer = epoch_length, shuffle_buffer
        self._train: ShardSet | None = None
        self._val: ShardSet | None = None
        self._passes = 0  # passes begun, the epoch when no trainer counts them

    def setup(self, stage: str | None = None) -> None:
        if stage in ("fit", None):
            self.train_shards()
        if stage in ("fit", "validate", None):
            self.val_shards()

    def train_shards(self) -> ShardSet:
        if self._train is None:
            self._train = resolve_shards(self.urls, "train", "data.urls")
            log.info(
                "training from %d shards (%s, ...)", len(self._train.urls), self._train.urls[0]
            )
        return self._train

    def val_shards(self) -> ShardSet | None:
        """The validation shards; None when validation reads `root`'s val split."""
        if self._val is None and self.val_urls is not None:
            self._val = resolve_shards(self.val_urls, "val", "data.val_urls")
        elif self._val is None and self.root is None:
            manifest = self.train_shards().manifest
            if not manifest or "val" not in manifest["splits"]:
                raise DatasetError(
                    "no validation data: set data.val_urls (val shards) or data.root "
                    "(a dataset folder with a val split)"
                )
            folder = str(Path(self.train_shards().urls[0]).parent)
            self._val = resolve_shards(folder, "val", "data.urls")
        return self._val

    def tracks(self, split: str) -> list[CaptionedAudio]:
        """A split of `root`; the training items are in the shards, listed nowhere."""
        if split == "train":
            log.info("training items are in shards: leakage against them is not checked")
            return []
        if self.root is None:
            raise DatasetError(f"data.root: the {split} split is read from a dataset folder")
        return super().tracks(split)

    def has_split(self, split: str) -> bool:
        return split != "train" and self.root is not None and super().has_split(split)

    def readers(self) -> tuple[int, int, int]:
        """(this rank, ranks, workers per rank)."""
        return (*self.ranks(), max(1, self.num_workers))

    def train_dataloader(self) -> DataLoader:
        shards = self.train_shards()
        rank, world, workers = self.readers()
        self.agree_on_seed()
        length = self.epoch_length or shards.count
        if not length:
            raise DatasetError(
                f"data.epoch_length: no {MANIFEST} counts the samples of {shards.urls[0]}, ...; "
                "set data.epoch_length=<training samples per epoch>"
            )
        per_batch = world * workers * self.batch_size
        if length < per_batch:
            raise DatasetError(
                f"data.epoch_length={length} is under one batch per reader: batch_size "
                f"{self.batch_size} x {workers} workers x {world} devices = {per_batch}"
            )
        reader = self.train_reader
        decode = SampleDecoder(
            "random",
            reader.sample_rate,
            reader.npy_sample_rate,
            reader.clip_seconds,
            self.bad_items,
            max_captions=self.max_captions,
        )
        stream = TrainStream(
            shards.urls,
            decode,
            self.seed,
            self.shuffle_buffer,
            self.batch_size,
            length // per_batch,
            self.num_workers,
            rank,
            world,
        )
        return EpochLoader(stream, self._start_position, **self._loader_args(self.batch_size))

    def _start_position(self) -> tuple[int, int]:
        """(epoch, first batch) of the pass about to begin: the trainer's, or a resume's."""
        epoch = self.trainer.current_epoch if self.trainer is not None else self._passes
        first = 0
        if self.resume_at is not None:
            # (epoch, batch, ...): the folder DataModule's checkpoint state, see state_dict
            if self.trainer is None or self.resume_at[0] == epoch:
                epoch, first = self.resume_at[:2]
                log.info("training data resumes at epoch %d, batch %d", epoch, first)
            self.resume_at = None
        self._passes = epoch + 1
        return epoch, first

    def state_dict(self) -> dict:
        """The folder DataModule's (seed, epoch, batch), and the reader layout it holds for."""
        rank, world, workers = self.readers()
        return {**super().state_dict(), "layout": [world, workers, self.batch_size]}

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        saved, now = state_dict.get("layout"), list(self.readers())[1:] + [self.batch_size]
        if saved is not None and list(saved) != now and "epoch" in state_dict:
            log.warning(
                "resuming with another (devices, workers, batch_size): %s, saved %s; the rest "
                "of the resumed epoch skips as many batches but draws other samples",
                now,
                saved,
            )

    def val_dataloader(self) -> DataLoader:
        shards = self.val_shards()
        if shards is None:
            return super().val_dataloader()
        reader = self.eval_reader
        decode = SampleDecoder(
            reader.mode,
            reader.sample_rate,
            reader.npy_sample_rate,
            reader.clip_seconds,
            self.bad_items,
            hop_seconds=reader.hop_seconds,
            max_captions=self.max_captions,
        )
        rank, world, _ = self.readers()
        stream = EvalStream(shards.urls, decode, rank, world)
        return DataLoader(stream, **self._loader_args(self.eval_batch_size))

    def _loader_args(self, batch_size: int) -> dict:
        return dict(
            batch_size=batch_size,
            num_workers=self.num_workers,
            pin_memory=self.pins_memory(),
            collate_fn=collate_pairs(self.tokenizer),
        )
