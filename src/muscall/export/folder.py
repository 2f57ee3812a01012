"""The exported model folder: weights as safetensors plus a JSON config, no pickle anywhere.

    <folder>/model.safetensors   every tensor of the DualEncoder's state dict
    <folder>/config.json         the network config, preprocessing, prompt templates, versions,
                                 and the config/tokenizer files of any Hugging Face part

`muscall.load(<folder>)` reads it back; so can any safetensors reader with the JSON beside it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from muscall.checkpoint import Checkpoint, build_net, project_version
from muscall.errors import MuscallError
from muscall.models.hf_bundle import with_bundled_files

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
FOLDER_FORMAT = "muscall-model"
FOLDER_FORMAT_VERSION = 1


def is_model_folder(path: Path) -> bool:
    return path.is_dir() and (path / CONFIG_FILE).is_file()


def save_model_folder(
    checkpoint: Checkpoint, out: Path, extra: Callable[[Path], object] | None = None
) -> Path:
    """Write `checkpoint` as a model folder at `out`, replacing an earlier export there.

    `extra(folder)` writes further files (the ONNX graphs) into the folder before it is moved.

    Written into a temporary folder beside `out` and renamed into place, so a kill
    mid-export leaves either the old folder or the new one, never half of one.
    """
    from omegaconf import OmegaConf
    from safetensors.torch import save_file

    out = out.expanduser().resolve()
    # An existing export is replaced; anything else there is the user's and stays.
    if out.exists() and not is_model_folder(out) and (not out.is_dir() or any(out.iterdir())):
        raise MuscallError(f"out={out}: exists and is not an exported model; choose another")
    out.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "format": FOLDER_FORMAT,
        "format_version": FOLDER_FORMAT_VERSION,
        "muscall_version": project_version(),
        "net": OmegaConf.to_container(OmegaConf.create(checkpoint.net_config)),
        "preprocessing": checkpoint.preprocessing,
        "zeroshot_templates": checkpoint.zeroshot_templates,
        "exported_from": checkpoint.path.name,
        # Hugging Face parts' config and tokenizer files: the folder needs no hub either.
        "net_files": checkpoint.net_files or {},
    }
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        # Each tensor on its own storage: a loaded checkpoint's tensors can be views of one.
        state = {
            k: v.detach().cpu().contiguous().clone() for k, v in checkpoint.net.state_dict().items()
        }
        save_file(state, str(staging / WEIGHTS_FILE), metadata={"format": "pt"})
        (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        if extra is not None:
            extra(staging)
        for file in staging.iterdir():
            with file.open("rb") as handle:
                os.fsync(handle.fileno())
        _swap_into_place(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def load_model_folder(path: Path, map_location: str = "cpu") -> Checkpoint:
    """Rebuild the network of an exported model folder."""
    from safetensors.torch import load_file

    config_file = path / CONFIG_FILE
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise MuscallError(f"{config_file}: not a readable model config ({error})") from error
    if not isinstance(config, dict) or config.get("format") != FOLDER_FORMAT:
        raise MuscallError(
            f"{config_file}: not a muscall model config (no format: {FOLDER_FORMAT})"
        )
    found = config.get("format_version", 0)
    if found > FOLDER_FORMAT_VERSION:
        raise MuscallError(
            f"{config_file}: model folder format {found} is newer than this muscall "
            f"({project_version()}); upgrade muscall to read it"
        )
    if not isinstance(config.get("net"), dict):
        raise MuscallError(f"{config_file}: key 'net' must hold the network config")
    net_files = config.get("net_files") or None
    net = build_net(with_bundled_files(config["net"], net_files), config_file)
    weights = path / WEIGHTS_FILE
    try:
        state = load_file(str(weights))
    except Exception as error:  # noqa: BLE001 - safetensors raises several types for bad files
        raise MuscallError(f"{weights}: cannot read the weights ({error})") from error
    try:
        net.load_state_dict(state)
    except RuntimeError as error:
        raise MuscallError(
            f"{weights}: the weights do not fit {config_file.name} ({error})"
        ) from error
    return Checkpoint(
        path=path,
        net=net.to(map_location).eval(),
        preprocessing=config.get("preprocessing"),
        zeroshot_templates=config.get("zeroshot_templates"),
        format_version=found,
        muscall_version=config.get("muscall_version"),
        net_config=json.dumps(config["net"]),
        net_files=net_files,
    )


def _swap_into_place(staging: Path, out: Path) -> None:
    if not out.exists():
        os.replace(staging, out)
        return
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(out, old)
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)
