"""The built-in dataset on demand: rendered when a run needs it and it is not there yet."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from omegaconf import OmegaConf

log = logging.getLogger(__name__)


def ensure_builtin_dataset(root: str | Path, generate: Mapping | None) -> None:
    """Render the built-in dataset when `root` is its home (`generate.root`) and it is missing."""
    if not generate:
        return
    if Path(root).expanduser().resolve() != Path(generate["root"]).expanduser().resolve():
        return  # the user pointed data.root at their own data
    render_builtin(generate)


def render_builtin(generate: Mapping, overwrite: bool = False) -> dict:
    """Render (or find ready) the built-in dataset described by a `data.generate` block."""
    from muscall.synth import build_dataset  # rendering needs tinysoundfont; import on demand

    params = OmegaConf.to_container(OmegaConf.create(dict(generate)), resolve=True)
    root = Path(params.pop("root")).expanduser()
    summary = build_dataset(root, overwrite=overwrite, **params)
    log.info("built-in dataset ready at %s: %s", root, summary)
    return summary
