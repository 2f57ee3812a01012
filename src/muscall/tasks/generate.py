"""task=generate: render the built-in captioned music dataset (`make data`)."""

from __future__ import annotations

from omegaconf import DictConfig

from muscall.errors import MuscallError
from muscall.synth.builtin import render_builtin


def run(cfg: DictConfig) -> dict[str, float]:
    generate = cfg.data.get("generate")
    if not generate:
        raise MuscallError("data.generate: this data config has no generator (use data=synthmusic)")
    summary = render_builtin(generate, overwrite=cfg.task.overwrite)
    print(f"built-in dataset at {generate.root}: {summary}")
    return {k: float(v) for k, v in summary.items() if isinstance(v, int | float)}
