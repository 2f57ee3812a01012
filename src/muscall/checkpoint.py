"""The checkpoint format: weights plus everything needed to use them, read back safely.

A training checkpoint carries, under the key "muscall", the network config as YAML text (to
rebuild the DualEncoder), the audio preprocessing it was trained and evaluated with, the zero-shot
prompt templates, this format's version and the project version. Evaluation uses these
values unless the command line names others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from muscall.errors import MuscallError
from muscall.models.hf_bundle import with_bundled_files
from muscall.models.saved_weights import weights_from_saved_state

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
# The data.* keys that decide what audio the network sees; they travel with the weights.
PREPROCESSING_KEYS = (
    "sample_rate",
    "clip_seconds",
    "eval_crop",
    "eval_clip_seconds",
    "eval_hop_seconds",
)


@dataclass
class Checkpoint:
    """A trained network in eval mode and the settings it was trained with."""

    path: Path
    net: torch.nn.Module
    preprocessing: dict | None
    zeroshot_templates: list[str] | None
    format_version: int
    muscall_version: str | None
    # The network config as YAML (or JSON) text: what rebuilds `net`, and what an export keeps.
    net_config: str = ""
    # Hugging Face parts' config/tokenizer files, {name_or_path: {file: base64}} (hf_bundle).
    net_files: dict | None = None


def project_version() -> str:
    try:
        return version("muscall")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def checkpoint_metadata(cfg: DictConfig) -> dict:
    """What `MusCALLModule` writes under "muscall" in every checkpoint of a run of `cfg`."""
    return {
        "format_version": FORMAT_VERSION,
        "muscall_version": project_version(),
        # YAML text, not a mapping: Hydra would build a network from a mapping with a _target_
        # wherever the metadata is passed through instantiate.
        "net_config": OmegaConf.to_yaml(cfg.model.net, resolve=True),
        "preprocessing": {key: cfg.data.get(key) for key in PREPROCESSING_KEYS},
        "zeroshot_templates": list(cfg.zeroshot.templates),
    }


def unsaved_checkpoint(
    path: str, net: torch.nn.Module, config: dict, preprocessing: dict, net_files=None
) -> Checkpoint:
    """A model that was never saved (ckpt_path=hf:..., pretrained:...) as a Checkpoint."""
    return Checkpoint(
        path=Path(path),
        net=net.eval(),
        preprocessing=preprocessing,
        zeroshot_templates=None,
        format_version=FORMAT_VERSION,
        muscall_version=project_version(),
        net_config=OmegaConf.to_yaml(OmegaConf.create(config)),
        net_files=net_files,
    )


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild the network of a training checkpoint (tensors and plain data only: no pickle)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise MuscallError(f"{path}: checkpoint not found (set ckpt_path)")
    try:
        saved = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises several types for bad files
        raise MuscallError(f"{path}: not a readable checkpoint ({error})") from error
    meta = saved.get("muscall") if isinstance(saved, dict) else None
    if not meta or meta.get("net_config") is None:
        raise MuscallError(f"{path}: not a muscall training checkpoint (no network config)")
    found = meta.get("format_version", 0)
    if found > FORMAT_VERSION:
        raise MuscallError(
            f"{path}: checkpoint format {found} is newer than this muscall "
            f"({project_version()}, format {FORMAT_VERSION}); upgrade muscall to read it"
        )
    if found < 1:
        log.warning("%s: written before checkpoint format 1: preprocessing from the config", path)
    net_config = meta["net_config"]
    if not isinstance(net_config, str):  # written before format 1 as a mapping
        net_config = OmegaConf.to_yaml(OmegaConf.create(net_config))
    net_files = meta.get("net_files") or None
    net_dict = with_bundled_files(OmegaConf.to_container(OmegaConf.create(net_config)), net_files)
    net = build_net(net_dict, path)
    prefix = "net."
    state = {k[len(prefix) :]: v for k, v in saved["state_dict"].items() if k.startswith(prefix)}
    net.load_state_dict(state)
    return Checkpoint(
        path=path,
        net=net.to(map_location).eval(),
        preprocessing=meta.get("preprocessing"),
        zeroshot_templates=meta.get("zeroshot_templates"),
        format_version=found,
        muscall_version=meta.get("muscall_version"),
        net_config=net_config,
        net_files=net_files,
    )


# A saved config names the classes that rebuild a network; only these modules may be named,
# so a checkpoint or model folder from someone else can never make loading call os.system.
TRUSTED_TARGET_PREFIX = "muscall.models."


def build_net(net_config: dict, origin: Path) -> torch.nn.Module:
    """Instantiate a saved network config whose every `_target_` is a muscall model class.

    The saved weights follow, so pretrained towers skip their packaged weights (and packages).
    """
    for target in _targets(net_config):
        if not isinstance(target, str) or not target.startswith(TRUSTED_TARGET_PREFIX):
            raise MuscallError(
                f"{origin}: the network config names {target!r}; only classes under "
                f"{TRUSTED_TARGET_PREFIX}* are built from a saved config"
            )
    try:
        with weights_from_saved_state():
            return instantiate(OmegaConf.create(net_config))
    except Exception as error:  # noqa: BLE001 - a stale or edited config fails in many ways
        if isinstance(error.__cause__, MuscallError):  # already one line for the user
            raise error.__cause__ from None
        raise MuscallError(
            f"{origin}: cannot build the network from its config ({error})"
        ) from error


def _targets(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "_target_":
                yield value
            else:
                yield from _targets(value)
    elif isinstance(node, list):
        for value in node:
            yield from _targets(value)
