"""What a WebDataset shard sample holds, and its audio decoded back: shared by writer and reader.

A sample is the tar members `<key>.<flac|npy>`, `<key>.captions.json` (a list),
`<key>.id.txt` and `<key>.metadata.json` ({source, sample_rate, frames, duration}); the key is
the item's position in its split (8 digits), as audio ids may hold dots or slashes, which a
tar member name cannot carry. `manifest.json` beside the shards lists them per split.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from muscall.audio.reading import downmix, fit_length, window_starts
from muscall.data.json_io import read_json
from muscall.errors import AudioProblem, DatasetError

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
AUDIO_FORMATS = ("flac", "npy")
NPY_DTYPES = ("float32", "int16")
INT16_SCALE = 32768.0


def shard_name(split: str) -> str:
    """The printf pattern of a split's shard files, as ShardWriter takes it."""
    return f"{split}-%06d.tar"


def encode_audio(wave: np.ndarray, sample_rate: int, audio_format: str, npy_dtype: str) -> bytes:
    """A mono float32 wave as FLAC (16-bit) or .npy bytes."""
    buffer = io.BytesIO()
    if audio_format == "flac":
        sf.write(buffer, wave, sample_rate, format="FLAC", subtype="PCM_16")
    elif npy_dtype == "int16":
        np.save(buffer, (np.clip(wave, -1.0, 1.0) * (INT16_SCALE - 1)).astype(np.int16))
    else:
        np.save(buffer, wave.astype(np.float32))
    return buffer.getvalue()


def make_sample(
    key: str, audio_id: str, captions, audio: bytes, audio_format: str, metadata: dict
) -> dict:
    """One sample as ShardWriter writes it: every member already bytes."""
    return {
        "__key__": key,
        audio_format: audio,
        "captions.json": json.dumps(list(captions), ensure_ascii=False).encode("utf-8"),
        "id.txt": audio_id.encode("utf-8"),
        "metadata.json": json.dumps(metadata, ensure_ascii=False).encode("utf-8"),
    }


@dataclass(frozen=True)
class ShardItem:
    """A sample read back: its members parsed, its audio still encoded."""

    url: str
    key: str
    audio_id: str
    captions: tuple[str, ...]
    metadata: dict
    audio: bytes
    audio_format: str


def parse_sample(sample: dict) -> ShardItem:
    """The members of a sample; a missing or malformed one raises AudioProblem."""
    key, url = sample.get("__key__", "?"), sample.get("__url__", "?")
    audio_format = next((f for f in AUDIO_FORMATS if f in sample), None)
    if audio_format is None:
        raise AudioProblem(f"no .flac or .npy member (members: {_members(sample)})", "bad entry")
    try:
        captions = json.loads(sample["captions.json"])
        metadata = json.loads(sample.get("metadata.json", b"{}"))
        audio_id = sample.get("id.txt", key.encode()).decode("utf-8")
    except (KeyError, ValueError) as error:
        raise AudioProblem(
            f"unreadable captions/metadata/id member ({error!r})", "bad entry"
        ) from error
    if (
        not isinstance(captions, list)
        or not captions
        or not all(isinstance(c, str) for c in captions)
    ):
        raise AudioProblem(
            f"captions.json is not a list of strings: {captions!r:.60}", "bad caption"
        )
    return ShardItem(
        url, key, audio_id, tuple(captions), metadata, sample[audio_format], audio_format
    )


def _members(sample: dict) -> str:
    return ", ".join(sorted(k for k in sample if not k.startswith("__"))) or "none"


class ShardAudio:
    """A sample's audio, decoded span by span from memory (soundfile, never torchaudio)."""

    def __init__(self, item: ShardItem, npy_sample_rate: int):
        self.item = item
        try:
            if item.audio_format == "npy":
                self._array = np.load(io.BytesIO(item.audio), allow_pickle=False)
                self.sample_rate = int(item.metadata.get("sample_rate", npy_sample_rate))
                self.num_frames = int(self._array.shape[0])
            else:
                self._file = sf.SoundFile(io.BytesIO(item.audio))
                self.sample_rate, self.num_frames = self._file.samplerate, self._file.frames
        except Exception as error:  # noqa: BLE001 - decoders raise many types
            raise AudioProblem(
                f"cannot decode {item.audio_format} ({error})", "undecodable"
            ) from error
        if self.num_frames == 0:
            raise AudioProblem("audio has no samples", "empty")

    def read(self, start: int, frames: int) -> np.ndarray:
        """Mono float32 frames [start, start + frames)."""
        try:
            if self.item.audio_format == "npy":
                wave = np.asarray(self._array[start : start + frames])
                if wave.dtype == np.int16:
                    wave = wave / INT16_SCALE
            else:
                self._file.seek(start)
                wave = self._file.read(frames, dtype="float32", always_2d=True)
        except Exception as error:  # noqa: BLE001 - decoders raise many types
            raise AudioProblem(
                f"cannot decode {self.item.audio_format} ({error})", "undecodable"
            ) from error
        if wave.ndim == 2:
            wave = downmix(wave)
        if not np.isfinite(wave).all():
            raise AudioProblem("audio holds NaN or infinite samples", "non-finite")
        return np.ascontiguousarray(wave, dtype=np.float32)

    def crop(self, sample_rate: int, seconds: float, mode: str, rng=None) -> np.ndarray:
        """A clip of `seconds` at `sample_rate`: random (training) or centre; cut in the
        stored rate, then resampled, as muscall.audio.reading.read_clip does for files."""
        length = math.ceil(seconds * self.sample_rate)
        start = 0
        if self.num_frames > length:
            spare = self.num_frames - length
            start = int(rng.integers(0, spare + 1)) if mode == "random" else spare // 2
        wave = self.read(start, min(length, self.num_frames - start))
        return fit_length(self._to_rate(wave, sample_rate), round(seconds * sample_rate))

    def windows(self, sample_rate: int, seconds: float, hop_seconds: float | None) -> np.ndarray:
        """The whole track as windows (W, T), placed as audio_io.read_windows places them."""
        wave = self._to_rate(self.read(0, self.num_frames), sample_rate)
        window = round(seconds * sample_rate)
        hop = round((hop_seconds or seconds) * sample_rate)
        starts = window_starts(len(wave), window, hop)
        return np.stack([fit_length(wave[s : s + window], window) for s in starts])

    def _to_rate(self, wave: np.ndarray, sample_rate: int) -> np.ndarray:
        if self.sample_rate == sample_rate:
            return wave
        resampled = AF.resample(torch.from_numpy(wave), self.sample_rate, sample_rate)
        return resampled.numpy().astype(np.float32, copy=False)


def read_manifest(path: Path) -> dict:
    """A shard folder's manifest.json; DatasetError naming it when unusable."""
    manifest = read_json(path, "shard manifest")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("splits"), dict):
        raise DatasetError(f"{path}: not a shard manifest (no 'splits'); rewrite with task=shard")
    return manifest
