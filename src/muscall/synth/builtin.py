"""The built-in dataset on demand: rendered when a run needs it and it is not there yet.

Several processes may want it at once (the jobs of a parallel sweep, DDP ranks, two
terminals): one renders while the others wait on a lock file beside the dataset, then find
it finished. The build itself writes its manifest last, so an interrupted one is never taken
for a finished one, and the lock keeps a second build from clearing a first one's files.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path

from omegaconf import OmegaConf

log = logging.getLogger(__name__)


def ensure_builtin_dataset(root: str | Path, generate: Mapping | None) -> dict | None:
    """Render the built-in dataset when `root` is its home (`generate.root`) and it is missing.

    Returns the build's summary (`built` says whether this call rendered it), or None when
    `root` is not the built-in dataset's home.
    """
    if not generate:
        return None
    if Path(root).expanduser().resolve() != Path(generate["root"]).expanduser().resolve():
        return None  # the user pointed data.root at their own data
    return render_builtin(generate)


def render_builtin(generate: Mapping, overwrite: bool = False) -> dict:
    """Render (or find ready) the built-in dataset described by a `data.generate` block."""
    from muscall.synth import build_dataset  # rendering needs tinysoundfont; import on demand

    params = OmegaConf.to_container(OmegaConf.create(dict(generate)), resolve=True)
    root = Path(params.pop("root")).expanduser()
    with exclusive(lock_path(root)):
        summary = build_dataset(root, overwrite=overwrite, **params)
    log.info("built-in dataset ready at %s: %s", root, summary)
    return summary


def lock_path(root: Path) -> Path:
    """Beside the dataset folder, not in it: a build refuses a folder with unknown files."""
    return root.with_name(f".{root.name}.lock")


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing); wait for whoever holds it.

    flock: released by the kernel when the holder exits, even killed, so no stale lock
    is ever left to remove by hand.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a")
    except OSError as error:  # a read-only share: reading a finished dataset needs no lock
        log.debug("no lock at %s (%s); going on without", path, error)
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another process to finish the built-in dataset (%s)", path)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
