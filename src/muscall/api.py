"""Using a trained model from Python: load it, embed audio and text, classify by prompts.

    import muscall
    model = muscall.load("outputs/train/.../checkpoints/best.ckpt")  # or an exported folder
    audio_emb = model.embed_audio(["a.mp3", "b.flac"])                  # (2, D), unit norm
    text_emb = model.embed_text(["warm jazz piano trio"])               # (1, D)
    scores = model.zero_shot(["a.mp3"], ["jazz", "rock"])               # [{"jazz": .., "rock": ..}]

Audio is embedded exactly as whole-track evaluation embeds it: windows of the checkpoint's
evaluation length over the whole track, each decoded on its own, and the normalised mean of
their embeddings. The result depends on the audio alone, never on batch size or company.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from muscall.audio.reading import downmix, fit_length, iter_windows, window_starts
from muscall.audio.track_windows import TrackWindows
from muscall.checkpoint import Checkpoint
from muscall.errors import AudioError, MuscallError
from muscall.evaluate.embed import embed_audio_batch, evaluating, pool_windows
from muscall.evaluate.zeroshot import class_embeddings
from muscall.model_sources import open_model

log = logging.getLogger(__name__)

AudioItem = str | os.PathLike | np.ndarray | torch.Tensor


@dataclass
class AudioResult:
    """One input of `stream_audio`: its embedding, or why there is none."""

    position: int
    path: Path | None
    embedding: np.ndarray | None  # (D,) float32, unit norm
    duration: float | None  # seconds
    error: str | None = None


def load(path: str | os.PathLike, device: str | torch.device | None = None) -> MusCALLModel:
    """A trained model from a training checkpoint (.ckpt) or an exported model folder.

    `hf:NAME_OR_DIR` is a Hugging Face CLAP model (hub name or folder) as it is;
    `pretrained:tagbridge` the model that needs no training (muscall.pretrained).
    """
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    return MusCALLModel(open_model(path, device), device)


class MusCALLModel:
    """A trained dual encoder in eval mode, with the preprocessing it was trained with."""

    def __init__(self, checkpoint: Checkpoint, device: torch.device):
        self.checkpoint = checkpoint
        self.net = checkpoint.net
        self.device = device
        pre = checkpoint.preprocessing or {}
        self.sample_rate = int(pre.get("sample_rate") or self.net.frontend.sample_rate)
        self.window_seconds = float(pre.get("eval_clip_seconds") or pre.get("clip_seconds") or 10.0)
        self.hop_seconds = float(pre.get("eval_hop_seconds") or self.window_seconds)
        self.templates = list(checkpoint.zeroshot_templates or ["{}"])
        self.embed_dim = int(self.net.embed_dim)

    @property
    def source(self) -> Path:
        return self.checkpoint.path

    @property
    def tags(self) -> list[str] | None:
        """The tag vocabulary when audio embeddings are tag profiles (pretrained:tagbridge)."""
        tags = getattr(self.net.audio_encoder, "tags", None)
        return list(tags) if tags else None

    @cached_property
    def fingerprint(self) -> str:
        """A hash of every weight: equal for a checkpoint and its export, so indexes match."""
        digest = hashlib.sha256()
        for name, tensor in sorted(self.net.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()[:16]

    def __repr__(self) -> str:
        return (
            f"MusCALLModel({self.source}, {self.embed_dim}-d, {self.sample_rate} Hz, "
            f"windows {self.window_seconds:g} s / hop {self.hop_seconds:g} s, {self.device})"
        )

    # Text ---------------------------------------------------------------------------------
    def embed_text(self, texts: str | Sequence[str], batch_size: int = 256) -> torch.Tensor:
        """Unit-norm embeddings (N, D) of N texts, float32 on the CPU."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        bad = [i for i, text in enumerate(texts) if not isinstance(text, str)]
        if bad:
            raise MuscallError(
                f"texts[{bad[0]}]: expected a string, got {type(texts[bad[0]]).__name__}"
            )
        with evaluating(self.net):
            return self.net.embed_text(texts, batch_size).float().cpu()

    # Audio --------------------------------------------------------------------------------
    def embed_audio(
        self,
        items: AudioItem | Sequence[AudioItem],
        sample_rate: int | None = None,
        batch_size: int = 16,
        num_workers: int = 0,
    ) -> torch.Tensor:
        """Unit-norm embeddings (N, D), float32 on the CPU, in the order of `items`.

        `items`: a path or a list of paths; a waveform (samples,) or a list of waveforms, each
        (samples,) or (channels, samples), at `sample_rate` (default: the model's); a 2-D
        array is a batch of mono waveforms. A file that cannot be read raises AudioError.
        """
        items = [items] if _is_single(items) else list(items)
        out = torch.zeros(len(items), self.embed_dim)
        for result in self._stream(items, sample_rate, batch_size, num_workers):
            if result.error is not None:
                raise AudioError(result.error)
            out[result.position] = torch.from_numpy(result.embedding)
        return out

    def stream_audio(
        self,
        paths: Iterable[str | os.PathLike],
        num_workers: int | None = None,
        batch_size: int = 16,
    ) -> Iterator[AudioResult]:
        """Embed many files, decoded in `num_workers` processes (None: every core).

        Yields one AudioResult per path in the order they finish; a bad file yields its
        error and never stops the rest. Memory stays bounded by the batch, whatever the count.
        """
        paths = [Path(p) for p in paths]
        workers = (os.cpu_count() or 1) if num_workers is None else num_workers
        yield from self._stream(paths, None, batch_size, min(workers, len(paths)))

    def _stream(self, items, sample_rate, batch_size, num_workers) -> Iterator[AudioResult]:
        windows = _TrackWindows(
            items, sample_rate, self.sample_rate, self.window_seconds, self.hop_seconds, batch_size
        )
        if any(not isinstance(item, Path | str | os.PathLike) for item in items):
            num_workers = 0  # waveforms stay in this process
        loader = DataLoader(
            windows,
            batch_size=None,
            num_workers=num_workers,
            collate_fn=_as_is,
            worker_init_fn=_one_thread,
            prefetch_factor=4 if num_workers else None,
        )
        pending: list[dict] = []  # chunks read but not yet encoded
        done: dict[int, list[torch.Tensor]] = {}  # window embeddings per track so far
        for chunk in loader:
            pending.append(chunk)
            if sum(len(c["windows"]) for c in pending if c["error"] is None) >= batch_size:
                yield from self._encode(pending, done, batch_size)
                pending = []
        yield from self._encode(pending, done, batch_size)

    def _encode(self, chunks: list[dict], done: dict, batch_size: int) -> list[AudioResult]:
        """Encode the chunks' windows in one pass; the tracks they complete, as results."""
        readable = [c for c in chunks if c["error"] is None and len(c["windows"])]
        if readable:
            audio = torch.from_numpy(np.concatenate([c["windows"] for c in readable]))
            with evaluating(self.net):  # entered per batch: never held across a yield
                emb = embed_audio_batch(self.net, audio.to(self.device), None, batch_size)
            parts = emb.float().cpu().split([len(c["windows"]) for c in readable])
            for chunk, part in zip(readable, parts, strict=True):
                done.setdefault(chunk["position"], []).append(part)
        results = []
        for chunk in chunks:
            if chunk["error"] is not None:
                done.pop(chunk["position"], None)
                results.append(
                    AudioResult(chunk["position"], chunk["path"], None, None, chunk["error"])
                )
            elif chunk["last"]:
                window_emb = torch.cat(done.pop(chunk["position"]))
                owner = torch.zeros(len(window_emb), dtype=torch.long)
                embedding = pool_windows(window_emb, owner)[0].numpy()
                results.append(
                    AudioResult(chunk["position"], chunk["path"], embedding, chunk["duration"])
                )
        return results

    # Zero-shot ----------------------------------------------------------------------------
    def zero_shot(
        self,
        audio: AudioItem | Sequence[AudioItem],
        labels: Sequence[str],
        templates: Sequence[str] | None = None,
        sample_rate: int | None = None,
    ) -> list[dict[str, float]]:
        """Per item, {label: cosine score} for every label, through prompt `templates`.

        Templates default to the checkpoint's own (a prompt ensemble, as in evaluation).
        """
        if not labels or any(not isinstance(label, str) or not label.strip() for label in labels):
            raise MuscallError(f"labels: need non-empty strings, got {list(labels)!r}")
        audio_emb = self.embed_audio(audio, sample_rate)
        with evaluating(self.net):
            class_emb = class_embeddings(self.net, list(labels), list(templates or self.templates))
        scores = (audio_emb @ class_emb.T).tolist()
        return [dict(zip(labels, row, strict=True)) for row in scores]


class _TrackWindows(IterableDataset):
    """Each item's windows in chunks of at most `chunk` windows; errors as chunks too."""

    def __init__(self, items, sample_rate, model_rate, window_seconds, hop_seconds, chunk):
        self.items = items
        self.sample_rate = sample_rate
        self.model_rate = model_rate
        self.window_seconds = window_seconds
        self.hop_seconds = hop_seconds
        self.chunk = chunk

    def __iter__(self) -> Iterator[dict]:
        worker = get_worker_info()
        first, step = (worker.id, worker.num_workers) if worker else (0, 1)
        for position in range(first, len(self.items), step):
            yield from self._chunks(position, self.items[position])

    def _chunks(self, position: int, item) -> Iterator[dict]:
        path = Path(item) if isinstance(item, str | os.PathLike) else None
        base = {"position": position, "path": path, "error": None, "last": False, "duration": None}
        try:
            windows = self._windows(item, path)
            block: list[np.ndarray] = []
            for window in windows:
                block.append(window)
                if len(block) == self.chunk:
                    yield {**base, "windows": np.stack(block)}
                    block = []
            empty = np.zeros((0, 0), np.float32)
            last = np.stack(block) if block else empty
            yield {**base, "windows": last, "last": True, "duration": windows.seconds}
        except Exception as error:  # noqa: BLE001 - one bad file must never stop the others
            name = str(path) if path else f"items[{position}]"
            message = str(error) if str(error).startswith(name) else f"{name}: {error}"
            yield {**base, "windows": None, "last": True, "error": message}

    def _windows(self, item, path: Path | None) -> TrackWindows | _ArrayWindows:
        """The item's windows; `.seconds` is its decoded length once they are read.

        A `.npy` file carries no rate: it is read at `sample_rate` (default: the model's),
        as an array would be, one rate for its length and its windows alike.
        """
        npy_rate = self.sample_rate or self.model_rate
        if path is not None:
            return iter_windows(
                path, self.model_rate, self.window_seconds, self.hop_seconds, npy_rate
            )
        wave = _mono(item, npy_rate, self.model_rate)
        return _ArrayWindows(wave, self.model_rate, self.window_seconds, self.hop_seconds)


class _ArrayWindows:
    """A waveform's windows, as TrackWindows gives a file's."""

    def __init__(self, wave: np.ndarray, rate: int, window_seconds: float, hop_seconds: float):
        self.wave, self.seconds = wave, len(wave) / rate
        self.window, self.hop = round(window_seconds * rate), round(hop_seconds * rate)

    def __iter__(self) -> Iterator[np.ndarray]:
        for start in window_starts(len(self.wave), self.window, self.hop):
            yield fit_length(self.wave[start : start + self.window], self.window)


def _mono(item, rate: int, model_rate: int) -> np.ndarray:
    """A waveform array as mono float32 at the model's rate."""
    import torchaudio.functional as AF

    wave = item.detach().cpu().numpy() if isinstance(item, torch.Tensor) else np.asarray(item)
    if wave.ndim == 2:
        # (channels, samples) as torchaudio gives, or (samples, channels) as soundfile does.
        wave = downmix(wave.T if wave.shape[0] <= wave.shape[1] else wave)
    if wave.ndim != 1 or wave.size == 0:
        raise AudioError(f"expected a waveform (samples,) or (channels, samples), got {wave.shape}")
    wave = wave.astype(np.float32, copy=False)
    if not np.isfinite(wave).all():
        raise AudioError("waveform holds NaN or infinite samples")
    if rate != model_rate:
        wave = AF.resample(torch.from_numpy(np.ascontiguousarray(wave)), rate, model_rate).numpy()
    return wave


def _is_single(items) -> bool:
    """One path or one 1-D waveform; a 2-D array is a batch of mono waveforms (N, samples)."""
    if isinstance(items, str | os.PathLike):
        return True
    return isinstance(items, np.ndarray | torch.Tensor) and items.ndim == 1


def _as_is(chunk):
    return chunk


def _one_thread(_worker_id: int) -> None:
    torch.set_num_threads(1)  # decoding workers must not fight the encoder for cores
