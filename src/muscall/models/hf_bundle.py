"""Self-contained checkpoints of Hugging Face parts: their small files travel with the weights.

A network built from a hub name or a folder needs that folder's config, tokenizer and
feature-extractor files to be rebuilt. Each Hugging Face part offers them (`hf_files()`);
a checkpoint or exported folder keeps them as {name_or_path: {file name: base64 text}}, and
loading writes them into a folder of the cache, named by their hash, and builds the network
from there, with its weights from the checkpoint, not from the hub.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import torch

# Only these files are kept: configs, tokenizers and feature extractors, never weights.
_KEPT_SUFFIXES = (".json", ".txt", ".model", ".tiktoken")


def saved_files(*savers) -> dict[str, str]:
    """What each object's `save_pretrained` writes (weights aside), as {name: base64 text}."""
    with tempfile.TemporaryDirectory(prefix="muscall-hf-") as folder:
        for saver in savers:
            saver.save_pretrained(folder)
        return {
            path.name: base64.b64encode(path.read_bytes()).decode("ascii")
            for path in sorted(Path(folder).iterdir())
            if path.is_file() and path.name.endswith(_KEPT_SUFFIXES)
        }


def net_files(net: torch.nn.Module) -> dict[str, dict[str, str]]:
    """Every Hugging Face part's files in `net`, by the name_or_path it was built from."""
    parts: Iterable = [*net.modules(), getattr(net, "tokenizer", None)]
    files: dict[str, dict[str, str]] = {}
    for part in parts:
        if part is not None and hasattr(part, "hf_files"):
            files.setdefault(part.name_or_path, {}).update(part.hf_files())
    return files


def cache_root() -> Path:
    """Where bundled files are unpacked: $MUSCALL_CACHE, else ~/.cache/muscall."""
    base = os.environ.get("MUSCALL_CACHE") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "muscall"
    )
    return Path(base).expanduser() / "hf"


def unpack(files: dict[str, str]) -> Path:
    """The folder holding `files`, written once (atomically) into the cache."""
    digest = hashlib.sha256()
    for name, text in sorted(files.items()):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    folder = cache_root() / digest.hexdigest()[:20]
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for name, text in files.items():
            (staging / Path(name).name).write_bytes(base64.b64decode(text))
        try:
            os.replace(staging, folder)
        except OSError:  # another process unpacked the same files first
            if not folder.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def with_bundled_files(net_config: dict, files: dict[str, dict[str, str]] | None) -> dict:
    """`net_config` built from the unpacked files: each bundled name_or_path points at them,
    and parts skip their pretrained weights (the checkpoint's replace them)."""
    if not files:
        return net_config
    folders = {name: str(unpack(part_files)) for name, part_files in files.items()}
    return _rewrite(net_config, folders)


def _rewrite(node, folders: dict[str, str]):
    if isinstance(node, list):
        return [_rewrite(value, folders) for value in node]
    if not isinstance(node, dict):
        return node
    out = {key: _rewrite(value, folders) for key, value in node.items()}
    if out.get("name_or_path") in folders:
        out["name_or_path"] = folders[out["name_or_path"]]
        if "pretrained" in out:
            out["pretrained"] = False
    return out
