"""Decoding audio once into 16 kHz mono FLAC, in parallel, resumable, never fatal per file.

FLAC, not `.npy`: lossless at 16 bits (every source here is 16-bit PCM or mp3), about a
quarter of float32 `.npy` on disk (MagnaTagATune: ~15 GB instead of ~47 GB), and soundfile
seeks in it, so a training crop decodes only its own frames.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torch.utils.data import DataLoader, Dataset

from muscall.audio.reading import read_clip
from muscall.errors import AudioError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioJob:
    """One file to convert: `item_id` names it in reports; `dest` is relative to the target."""

    item_id: str
    source: Path
    dest: str


@dataclass
class ConvertReport:
    """What a conversion pass did: ids written now, ids already there, ids that failed."""

    converted: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> {file, error}

    @property
    def ok(self) -> set[str]:
        return set(self.converted) | set(self.reused)

    def fail(self, item_id: str, file: Path | str, error: str) -> None:
        self.failed[item_id] = {"file": str(file), "error": error}


def convert_one(job: AudioJob, target: Path, sample_rate: int) -> tuple[str, float]:
    """Decode, mix to mono, resample and write one file atomically; returns (status, seconds).

    Raises AudioError for a file that cannot be used (missing, undecodable, empty, silent).
    """
    dest = target / job.dest
    if dest.is_file():
        return "reused", 0.0
    wave = read_clip(job.source, sample_rate, None, mode="none")
    if wave.size == 0:
        raise AudioError(f"{job.source}: audio file is empty")
    if not np.any(wave):
        raise AudioError(f"{job.source}: audio is silent (all samples are zero)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    # Resampling may overshoot full scale by a hair; 16-bit PCM would wrap, so limit to ±1 first.
    sf.write(partial, np.clip(wave, -1.0, 1.0), sample_rate, format="FLAC", subtype="PCM_16")
    os.replace(partial, dest)
    return "converted", wave.shape[0] / sample_rate


class _ConvertJobs(Dataset):
    """A DataLoader runs the conversions: its worker processes are the parallelism."""

    def __init__(self, jobs: Sequence[AudioJob], target: Path, sample_rate: int):
        self.jobs, self.target, self.sample_rate = list(jobs), target, sample_rate

    def __len__(self) -> int:
        return len(self.jobs)

    def __getitem__(self, index: int) -> tuple[str, str, str]:
        job = self.jobs[index]
        try:
            status, _ = convert_one(job, self.target, self.sample_rate)
            return job.item_id, status, ""
        except AudioError as error:
            return job.item_id, "failed", str(error)
        except Exception as error:  # noqa: BLE001 - one broken file never ends a long run
            return job.item_id, "failed", f"{job.source}: {type(error).__name__}: {error}"


def convert_all(
    jobs: Iterable[AudioJob],
    target: Path,
    sample_rate: int = 16000,
    workers: int | None = None,
    progress: bool = True,
) -> ConvertReport:
    """Convert every job not already done (a rerun resumes), on `workers` processes."""
    jobs = list(jobs)
    ids = [job.item_id for job in jobs]
    if len(set(ids)) != len(ids):
        raise ValueError("convert_all: item ids must be unique")
    by_id = {job.item_id: job for job in jobs}
    workers = (os.cpu_count() or 1) if workers is None else workers
    loader = DataLoader(
        _ConvertJobs(jobs, target, sample_rate),
        batch_size=None,
        num_workers=min(workers, len(jobs)) if len(jobs) > 1 else 0,
        worker_init_fn=_one_thread,
    )
    report = ConvertReport()
    for item_id, status, error in _progress(loader, len(jobs), progress):
        if status == "failed":
            report.fail(item_id, by_id[item_id].source, error)
            log.warning("skipping %s", error)
        else:
            getattr(report, status).append(item_id)
    return report


@dataclass(frozen=True)
class Decoder:
    """The decoding settings of one prepare run; a dataset module calls it with its jobs."""

    target: Path
    sample_rate: int = 16000
    workers: int | None = None
    progress: bool = True

    def __call__(self, jobs: Iterable[AudioJob]) -> ConvertReport:
        return convert_all(jobs, self.target, self.sample_rate, self.workers, self.progress)


def _one_thread(_: int) -> None:
    # Parallelism comes from the processes; a thread pool in each would oversubscribe.
    torch.set_num_threads(1)


def _progress(iterable, total: int, enabled: bool):
    if not enabled:
        return iterable
    from tqdm import tqdm  # not tqdm.auto: its async variant iterates the loader twice

    return tqdm(iterable, total=total, desc="decoding audio", unit="file", mininterval=1.0)
