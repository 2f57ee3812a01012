"""musicnn's music-trained weights, read from the installed `musicnn` wheel without TensorFlow.

The wheel (musicnn 0.1.0, ISC licence, Jordi Pons) ships TF1 checkpoints; only their tensor
bundles are read here (muscall.models.tf_bundle), never musicnn's own code. Each file is checked
against the digest of the wheel's copy before use, so a changed package cannot slip in.
"""

from __future__ import annotations

import hashlib
import os
from importlib import resources
from pathlib import Path

import numpy as np

from muscall.errors import MuscallError
from muscall.models.tf_bundle import BundleFormatError, read_bundle

INSTALL_HINT = "install it with `pip install --no-deps musicnn==0.1.0` (or `make install`)"
# The checkpoints of musicnn 0.1.0 (the wheel's RECORD gives the same digests, base64-coded).
CHECKPOINTS = {
    "msd": {
        "folder": "MSD_musicnn",
        ".index": "87f3e0f3550c8d3bafc840374003e5c8af5eeb5ecf6add61af09a7822d3282c8",
        ".data-00000-of-00001": "8579734ee6388f799ed0def4bbd0d1fdcbeaf213ef2a9dc860917bd76a303de6",
    },
    "mtt": {
        "folder": "MTT_musicnn",
        ".index": "da2d7bb670b2b31e9bc441bb1bd75eca31b5b061f963cc1f9630c1aff3238f57",
        ".data-00000-of-00001": "041f3935e981a65cea739842d30c188d3a7d2adf4410955c8668eb3de4a5acab",
    },
}
# Optimiser state (Adam's two slots per weight and its step powers): two thirds of the file.
_OPTIMIZER_MARKS = ("/Adam", "beta1_power", "beta2_power")


def _package_folder(name: str) -> Path:
    if name not in CHECKPOINTS:
        raise MuscallError(f"musicnn weights {name!r}: choose one of {sorted(CHECKPOINTS)}")
    try:
        root = resources.files("musicnn")
    except ModuleNotFoundError as err:
        raise MuscallError(f"the musicnn weights need the musicnn package: {INSTALL_HINT}") from err
    return Path(str(root)) / CHECKPOINTS[name]["folder"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checkpoint_prefix(name: str) -> str:
    """The bundle prefix of checkpoint `name` ("msd" or "mtt"), its files checked by sha256.

    The `checkpoint` file beside them names the author's own paths, so the prefix is the
    folder itself: the bundle's files are `<folder>/.index` and `<folder>/.data-...`.
    """
    folder = _package_folder(name)
    for suffix, expected in CHECKPOINTS[name].items():
        if suffix == "folder":
            continue
        path = folder / suffix
        if not path.is_file():
            raise MuscallError(f"{path}: missing from the musicnn package; {INSTALL_HINT}")
        if _sha256(path) != expected:
            raise MuscallError(f"{path}: not musicnn 0.1.0's file (sha256 differs); {INSTALL_HINT}")
    return f"{folder}{os.sep}"


def load_musicnn_tensors(name: str) -> dict[str, np.ndarray]:
    """The network tensors of musicnn checkpoint `name`, by TF variable name; no Adam slots."""
    prefix = checkpoint_prefix(name)
    try:
        return read_bundle(prefix, keep=lambda key: not any(m in key for m in _OPTIMIZER_MARKS))
    except BundleFormatError as err:
        raise MuscallError(f"{prefix}.index: unreadable tensor bundle ({err})") from err
