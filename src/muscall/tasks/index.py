"""task=index: embed every audio file of a folder into a library index, incrementally."""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from muscall.errors import MuscallError
from muscall.library.build import Update, update_index
from muscall.library.index import LibraryIndex
from muscall.library.store import generation_dir
from muscall.runs.assembly import start_run
from muscall.runs.evaluation import require_checkpoint

log = logging.getLogger(__name__)

SHOWN_SKIPPED = 20


def run(cfg: DictConfig) -> dict[str, float]:
    import muscall

    ckpt_path = require_checkpoint(cfg, "index")
    source = library_folder(cfg)
    index_dir = index_folder(cfg, source)
    start_run(cfg)
    model = muscall.load(ckpt_path)
    task = cfg.task
    index, update = update_index(
        model,
        source,
        index_dir,
        cfg.workers,
        task.batch_size,
        task.progress,
        task.save_every_seconds,
    )
    print(summary(index, update, index_dir))
    return {
        "num_tracks": float(len(index)),
        "embedded": float(len(update.embedded)),
        "kept": float(update.kept),
        "reused": float(update.reused),
        "removed": float(len(update.removed)),
        "skipped": float(len(update.skipped)),
    }


def library_folder(cfg: DictConfig) -> Path:
    if not cfg.get("source"):
        raise MuscallError("source: name the folder of audio to index, e.g. source=~/Music")
    source = Path(cfg.source).expanduser().resolve()
    if not source.is_dir():
        raise MuscallError(f"source={cfg.source}: folder not found")
    return source


def index_folder(cfg: DictConfig, source: Path | None) -> Path:
    """`index`, or outputs/index/<source folder name>: never inside the user's music."""
    if cfg.get("index"):
        return Path(cfg.index).expanduser().resolve()
    if source is None:
        raise MuscallError("index: name the index folder (index=PATH) or the library (source=DIR)")
    return Path(cfg.paths.log_dir).resolve() / "index" / source.name


def summary(index: LibraryIndex, update: Update, index_dir: Path) -> str:
    lines = [f"index of {index.root}: {len(index)} tracks in {index_dir}"]
    if update.rebuilt:
        lines.append("  the model changed: every file was embedded again")
    lines.append(f"  embedded {len(update.embedded)}, unchanged {update.kept}, "
                 f"reused by content {update.reused}, removed {len(update.removed)}")  # fmt: skip
    if update.skipped:
        lines.append(f"  skipped {len(update.skipped)} file(s):")
        for skipped in sorted(update.skipped, key=lambda s: s.path)[:SHOWN_SKIPPED]:
            lines.append(f"    {skipped.path}: {skipped.reason}")
        if len(update.skipped) > SHOWN_SKIPPED:
            lines.append(f"    ... and {len(update.skipped) - SHOWN_SKIPPED} more")
        folder = generation_dir(index.folder, index.meta["generation"])
        lines.append(f"  full list: {folder / 'skipped.jsonl'}")
    return "\n".join(lines)
