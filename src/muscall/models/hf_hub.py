"""Loading Hugging Face parts by hub name or local folder, with a one-line error when offline."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from muscall.errors import MuscallError


def hub_offline() -> bool:
    """Whether the hub is switched off (muscall's runs set HF_HUB_OFFLINE=1 unless told otherwise)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def unavailable(name_or_path: str, what: str, error: Exception) -> MuscallError:
    """The one-line error for a model that is neither a local folder nor reachable on the hub."""
    if _looks_like_path(name_or_path):
        return MuscallError(f"{name_or_path}: no such folder with a Hugging Face {what}")
    reason = (
        "the Hugging Face hub is off (HF_HUB_OFFLINE=1, muscall's default)"
        if hub_offline()
        else f"it could not be fetched ({_first_line(error)})"
    )
    return MuscallError(
        f"{name_or_path}: not a local folder, and {reason}; download it once with "
        f"`huggingface-cli download {name_or_path} --local-dir DIR` and pass the folder "
        "(name_or_path=DIR), or allow downloads with HF_HUB_OFFLINE=0"
    )


def from_pretrained(loader, name_or_path: str, what: str, **kwargs):
    """`loader.from_pretrained(name_or_path)` quietly; a missing model raises MuscallError."""
    from transformers.utils import logging as hf_logging

    bar_was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return loader.from_pretrained(str(Path(name_or_path).expanduser()), **kwargs)
    except (OSError, ValueError) as error:
        found = Path(name_or_path).expanduser().is_dir()
        if found:
            raise MuscallError(
                f"{name_or_path}: cannot load its {what} ({_first_line(error)})"
            ) from error
        raise unavailable(name_or_path, what, error) from error
    finally:
        if bar_was_on:
            hf_logging.enable_progress_bar()


def load_model(name_or_path: str, pretrained: bool, model_class=None):
    """A transformers model: its pretrained weights, or (`pretrained=False`) its config alone.

    Without pretrained weights the model is built at random from the config: a checkpoint's
    own weights replace them (muscall.models.hf_bundle).
    """
    from transformers import AutoConfig, AutoModel

    model_class = model_class or AutoModel
    if pretrained:
        return from_pretrained(model_class, name_or_path, "model")
    config = from_pretrained(AutoConfig, name_or_path, "model config")
    with _quiet_transformers():
        if model_class is AutoModel:
            return AutoModel.from_config(config)
        return model_class(config)


@contextlib.contextmanager
def _quiet_transformers():
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def _looks_like_path(name: str) -> bool:
    # A hub name is `name` or `owner/name`; anything else is meant as a folder.
    return name.startswith(("/", ".", "~")) or name.count("/") > 1


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
