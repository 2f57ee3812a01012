"""Optional features and the extra that installs each: a missing one is named in one line.

The core (training, evaluation, zero-shot, the Python API) needs none of these.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from muscall.errors import MuscallError

# extra -> the top-level modules it provides (pyproject.toml's [project.optional-dependencies]).
EXTRAS: dict[str, tuple[str, ...]] = {
    "serve": ("fastapi", "uvicorn", "multipart"),
    "onnx": ("onnx", "onnxruntime"),
    "search": ("faiss",),
    "maps": ("umap", "sklearn"),
    "sweep": ("hydra_plugins.hydra_optuna_sweeper",),
    "cluster": ("hydra_plugins.hydra_submitit_launcher",),
    "shards": ("webdataset",),
}
# Command-line choices that Hydra resolves before any muscall code runs.
OVERRIDES: dict[str, str] = {
    "hparams_search": "sweep",
    "hydra/sweeper": "sweep",
    "hydra/launcher": "cluster",
}


SHARDS_FEATURE = "WebDataset shards (data=webdataset, task=shard)"


class MissingExtra(MuscallError):
    """An optional feature whose packages are not installed."""


def _message(extra: str, feature: str) -> str:
    return f"{feature} needs the '{extra}' extra: pip install 'muscall[{extra}]' (or make install)"


def require(extra: str, feature: str) -> None:
    """Raise MissingExtra unless every package of `extra` imports."""
    for module in EXTRAS[extra]:
        load(module, extra, feature)


def load(module: str, extra: str, feature: str) -> ModuleType:
    """`import module`, or MissingExtra naming `extra` when its package is absent."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is None or module.split(".")[0] != error.name.split(".")[0]:
            raise  # the package is there but something it needs is not: a real error
        raise MissingExtra(_message(extra, feature)) from None


def check_overrides(overrides: list[str]) -> None:
    """Name the extra that a Hydra plugin chosen on the command line needs."""
    for override in overrides:
        group, _, choice = override.lstrip("+~").partition("=")
        extra = OVERRIDES.get(group)
        if extra and choice not in ("", "null", "basic"):
            require(extra, override)
