"""Torch datasets of audio clips: caption pairs for training, plain clips for evaluation.

A bad file never stops a run: the item is reported (log + `bad_items.jsonl`) and dropped
from its batch by the collate functions below; a batch left empty collates to None, which
the training and evaluation steps skip. With `BadItemLog(fail=True)` the first bad item
raises BadItemError instead (`data.on_bad_item=fail`). Under DDP a training item is never
dropped but stood in for (AudioCaptionDataset's `substitute`): every rank's batch stays full.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from muscall.audio.reading import CROP_MODES, check_whole_file, read_clip, read_windows
from muscall.data.bad_items import BadItemLog
from muscall.data.captions import CaptionedAudio
from muscall.data.sampling import Draw
from muscall.errors import AudioError, DatasetError


class ClipReader:
    """Reads clips for one crop policy; shared by every dataset below.

    `mode`: "random" (training) and "centre" give one clip (T,); "windows" gives the whole
    track as windows (W, T), `hop_seconds` apart, for whole-track evaluation.
    """

    def __init__(
        self,
        sample_rate: int,
        clip_seconds: float | None,
        mode: str,
        npy_sample_rate: int,
        bad_items: BadItemLog | None = None,
        hop_seconds: float | None = None,
    ):
        if mode not in (*CROP_MODES, "windows"):
            raise ValueError(f"crop mode must be random, centre or windows, got {mode!r}")
        self.sample_rate = sample_rate
        self.clip_seconds = clip_seconds
        self.mode = mode
        self.npy_sample_rate = npy_sample_rate
        self.hop_seconds = hop_seconds
        self.bad_items = bad_items or BadItemLog()

    def __call__(
        self, path: Path, rng: np.random.Generator | None, audio_id: str | None = None
    ) -> torch.Tensor | None:
        """The clip, or None when the file is unusable (reported, naming `audio_id`)."""
        try:
            wave = self._read(path, rng)
            if not np.any(wave):
                # A silent crop is fine in music; a silent file is not.
                check_whole_file(path, self.npy_sample_rate)
        except (AudioError, OSError) as error:
            self.bad_items.report(path, error, audio_id=audio_id)
            return None
        return torch.from_numpy(wave)

    def _read(self, path: Path, rng: np.random.Generator | None) -> np.ndarray:
        if self.mode == "windows":
            return read_windows(
                path, self.sample_rate, self.clip_seconds, self.hop_seconds, self.npy_sample_rate
            )
        return read_clip(
            path, self.sample_rate, self.clip_seconds, self.mode, rng, self.npy_sample_rate
        )


class AudioCaptionDataset(Dataset):
    """(clip, caption) pairs; training draws a random crop and one of the track's captions.

    Training items are asked for by `Draw` (muscall.data.sampling): the crop and caption are
    drawn from the Draw's (seed, epoch, index), never from a worker's random state, so the
    items of a resumed epoch are those the uninterrupted run would have drawn.

    `substitute` (training under DDP): an unreadable track is reported and the next readable
    one in dataset order stands in for it, with a crop of its own. A dropped item would leave
    one rank a short batch (or none), which the ranks' gathers and all-reduces cannot take.
    """

    def __init__(
        self,
        tracks: Sequence[CaptionedAudio],
        reader: ClipReader,
        train: bool,
        substitute: bool = False,
    ):
        self.tracks = list(tracks)
        self.reader = reader
        self.train = train
        self.substitute = substitute

    def __len__(self) -> int:
        return len(self.tracks)

    def __getitem__(self, key: int | Draw) -> dict | None:
        if self.train and not isinstance(key, Draw):
            raise TypeError("a training AudioCaptionDataset is indexed by Draw (SeededOrder)")
        item = self._item(key)
        if item is None and self.substitute:
            return self._stand_in(key)
        return item

    def _item(self, key: int | Draw) -> dict | None:
        index = int(key.index if isinstance(key, Draw) else key)
        track = self.tracks[index]
        rng = key.rng() if self.train else None
        audio = self.reader(track.audio_path, rng, track.audio_id)
        if audio is None:
            return None
        caption = (
            track.captions[int(rng.integers(len(track.captions)))]
            if rng is not None
            else track.captions[0]
        )
        item = {"index": index, "audio": audio, "caption": caption}
        if not self.train:
            item["captions"] = track.captions  # every caption: each is a retrieval query
        return item

    def _stand_in(self, draw: Draw) -> dict:
        """The next readable track after `draw`'s: a function of the files and the draw only."""
        for step in range(1, len(self.tracks)):
            index = (draw.index + step) % len(self.tracks)
            item = self._item(draw._replace(index=index, instead_of=draw.index))
            if item is not None:
                return item
        raise DatasetError(
            f"no track of the train split could be read ({len(self.tracks)} tried); "
            "see bad_items.jsonl in the run folder"
        )


class LabelledAudioDataset(Dataset):
    """Evaluation crops of a labelled set's clips, with their index for re-alignment."""

    def __init__(self, audio_paths: Sequence[Path], reader: ClipReader):
        self.audio_paths = list(audio_paths)
        self.reader = reader

    def __len__(self) -> int:
        return len(self.audio_paths)

    def __getitem__(self, index: int) -> dict | None:
        audio = self.reader(self.audio_paths[index], None)
        return None if audio is None else {"index": index, "audio": audio}


def collate_pairs(tokenizer: Callable[[list[str]], dict] | None) -> Callable:
    """Collate that drops unusable items and tokenizes captions in the worker."""

    def collate(items: list[dict | None]) -> dict | None:
        items = [item for item in items if item is not None]
        if not items:
            return None
        batch = {"index": torch.tensor([item["index"] for item in items])}
        if items[0]["audio"].ndim == 2:
            # Whole tracks as windows: all windows in one tensor, and which track each is of.
            batch["audio"] = torch.cat([item["audio"] for item in items])
            batch["window_owner"] = torch.cat(
                [torch.full((len(item["audio"]),), row) for row, item in enumerate(items)]
            )
        else:
            batch["audio"] = torch.stack([item["audio"] for item in items])
        if "captions" in items[0]:
            batch["captions"] = [item["captions"] for item in items]
        if "caption" in items[0]:
            batch["caption"] = [item["caption"] for item in items]
            if tokenizer is not None:
                batch["tokens"] = tokenizer(batch["caption"])
        return batch

    return collate
