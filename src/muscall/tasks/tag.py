"""task=tag: musicnn's 50 tag probabilities for a file or a folder of music, no training."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from omegaconf import DictConfig

from muscall.atomic import atomic_path
from muscall.audio.reading import read_clip
from muscall.errors import AudioError, MuscallError
from muscall.library.walk import walk_library
from muscall.models.musicnn_tagging import MusicnnTagging
from muscall.runs.assembly import start_run

log = logging.getLogger(__name__)


def run(cfg: DictConfig) -> dict[str, float]:
    files, problems = source_files(cfg.get("source"))
    out = start_run(cfg)
    tagging = MusicnnTagging(cfg.tagger)
    tagged = 0
    with atomic_path(out / "tags.jsonl") as temporary, temporary.open("w") as lines:
        for path in files:
            try:
                wave = read_clip(path, tagging.sample_rate, None, mode="none")
            except AudioError as error:
                problems.append(str(error))
                continue
            tags = tagging.named(tagging.probabilities(wave))
            lines.write(json.dumps({"path": str(path), "tags": tags}) + "\n")
            print(top_tags_line(path, tags, cfg.task.top_k))
            tagged += 1
    for problem in problems:
        log.warning("skipped %s", problem)
    print(f"tagged {tagged} file(s) with musicnn {cfg.tagger} -> {out / 'tags.jsonl'}"
          + (f"; skipped {len(problems)}" if problems else ""))  # fmt: skip
    return {"tagged": float(tagged), "skipped": float(len(problems))}


def source_files(source: str | None) -> tuple[list[Path], list[str]]:
    """The audio files `source` names (a file, or a folder walked), and the files left out."""
    if not source:
        raise MuscallError("source: name an audio file or a folder, e.g. source=~/Music")
    path = Path(source).expanduser().resolve()
    if path.is_file():
        return [path], []
    if not path.is_dir():
        raise MuscallError(f"source={source}: no such file or folder")
    walk = walk_library(path)
    skipped = [f"{path / s.path}: {s.reason}" for s in walk.skipped]
    return [path / found.path for found in walk.files], skipped


def top_tags_line(path: Path, tags: dict[str, float], k: int) -> str:
    best = sorted(tags.items(), key=lambda item: -item[1])[:k]
    return f"{path}: " + ", ".join(f"{tag} {p:.2f}" for tag, p in best)
