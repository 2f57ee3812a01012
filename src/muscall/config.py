"""Hydra set-up shared by the entrypoint and the tests."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

# src/muscall/config.py -> the repository that holds conf/
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = PROJECT_ROOT / "conf"


def register_resolvers() -> None:
    """`${muscall_root:}`: the project folder, so paths never depend on the cwd."""
    if not OmegaConf.has_resolver("muscall_root"):
        OmegaConf.register_new_resolver("muscall_root", lambda: str(PROJECT_ROOT))
