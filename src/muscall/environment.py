"""torch and torchaudio must come from one release: checked when muscall is imported."""

from __future__ import annotations

import importlib.metadata as metadata

PINNED = ("torch", "torchaudio")


class TorchPairError(ImportError):
    """torch and torchaudio from different releases (torchaudio's library fails to link)."""


def _base(version: str) -> str:
    return version.split("+")[0]


def pinned_pair() -> str:
    """`torch==X torchaudio==Y` as muscall's own metadata pins them."""
    try:
        requires = metadata.requires("muscall") or []
    except metadata.PackageNotFoundError:
        requires = []
    pins = [r.split(";")[0].replace(" ", "") for r in requires if r.startswith(PINNED)]
    return " ".join(p for p in pins if "==" in p) or "torch==X.Y.Z torchaudio==X.Y.Z"


def check_torch_pair(versions: dict[str, str] | None = None) -> None:
    """Raise TorchPairError when the installed torch and torchaudio are not one release."""
    if versions is None:
        versions = {}
        for name in PINNED:
            try:
                versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                return  # a missing package fails at its own import, by name
    torch, audio = versions["torch"], versions["torchaudio"]
    if _base(torch) != _base(audio):
        raise TorchPairError(
            f"torch {torch} and torchaudio {audio} do not load together: install the pair "
            f"`pip install {pinned_pair()}` (make install does)",
            name="muscall",
        )
