"""Writing a picture: a pyplot-free figure saved as PNG, logged to wandb when a run is active.

A picture is never worth a run: `attempt` turns a failure into a warning naming the plot.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from matplotlib.figure import Figure

log = logging.getLogger(__name__)

T = TypeVar("T")
DPI = 90


def new_figure(width: float, height: float) -> Figure:
    """A figure of its own, not pyplot's: no global state, nothing left open after a run."""
    return Figure(figsize=(width, height), layout="constrained")


def save(fig: Figure, path: Path) -> Path:
    """Write `fig` as the PNG `path`, whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.png")
    fig.savefig(partial, dpi=DPI)
    os.replace(partial, path)
    return path


def attempt(name: str, draw: Callable[..., T], *args, **kwargs) -> T | None:
    """`draw(*args, **kwargs)`, or None and a warning naming the plot when it fails."""
    try:
        return draw(*args, **kwargs)
    except Exception as error:  # a picture must never cost a run its metrics
        log.warning("plot %r not drawn: %s: %s", name, type(error).__name__, error)
        log.debug("plot %r failed", name, exc_info=True)
        return None


def publish(paths: Iterable[Path | None]) -> list[Path]:
    """The PNGs that were written, each logged as an image to the active wandb run, if any."""
    written = [path for path in paths if path is not None]
    # Looked up, never imported: plotting needs no wandb, and no run exists unless it was.
    wandb = sys.modules.get("wandb")
    run = getattr(wandb, "run", None)
    if run is not None and written:
        attempt("wandb images", _log_images, wandb, run, written)
    return written


def _log_images(wandb, run, paths: list[Path]) -> None:
    run.log({f"plots/{path.stem}": wandb.Image(str(path)) for path in paths})


def file_part(name: str) -> str:
    """`name` (a zero-shot set's, say) made safe inside a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
