"""Checks of a composed config before any work: required values given, overrides well typed.

Hydra already refuses an unknown key (`Key 'batchsize' is not in struct`) and an unknown
choice for a group (listing the available options). Two mistakes pass it silently and fail
late, deep inside a library: a required `???` value left out (`data=folder` without
`data.root`), and a value of the wrong type (`trainer.max_epochs=abc`). Both are caught here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from omegaconf import DictConfig, ListConfig, OmegaConf

from muscall.config import CONFIG_DIR
from muscall.errors import MuscallError


def check_config(
    cfg: DictConfig,
    overrides: Sequence[str],
    compose_defaults: Callable[[list[str]], DictConfig],
) -> None:
    """Raise MuscallError naming the first key that is missing or mistyped.

    `compose_defaults(group_overrides)` composes the same config with only the group choices
    of `overrides`: the value each key would have had, whose type a value override must keep.
    """
    missing = sorted(key for key in _missing_keys(cfg) if not key.startswith("hydra."))
    if missing:
        raise MuscallError(
            f"{missing[0]}: a value is required (e.g. {missing[0]}=...)"
            + (f"; also missing: {', '.join(missing[1:])}" if len(missing) > 1 else "")
        )
    parsed = OverridesParser.create().parse_overrides(list(overrides))
    groups = [o.input_line for o in parsed if _is_group(o)]
    values = [o for o in parsed if not _is_group(o) and o.type == OverrideType.CHANGE]
    if not values:
        return
    defaults = compose_defaults(groups)
    for override in values:
        key = override.key_or_group
        default = OmegaConf.select(
            defaults, key, default=None, throw_on_missing=False, throw_on_resolution_failure=False
        )
        given = OmegaConf.select(
            cfg, key, default=None, throw_on_missing=False, throw_on_resolution_failure=False
        )
        problem = _type_problem(default, given)
        if problem:
            raise MuscallError(f"{key}={override.get_value_element_as_str()}: {problem}")


def _missing_keys(node, prefix: str = ""):
    """Keys holding `???`, without resolving interpolations (some need a running Hydra job)."""
    keys = node.keys() if isinstance(node, DictConfig) else range(len(node))
    for key in keys:
        name = f"{prefix}{key}" if isinstance(node, DictConfig) else f"{prefix[:-1]}[{key}]"
        if OmegaConf.is_missing(node, key):
            yield name
        elif not OmegaConf.is_interpolation(node, key):
            child = node._get_node(key)
            if isinstance(child, DictConfig | ListConfig) and not child._is_none():
                yield from _missing_keys(child, f"{name}.")


def _is_group(override: Override) -> bool:
    """`data=folder`, `model/text@model.net=clip`, `experiment=x`: a choice of config file."""
    return (CONFIG_DIR / override.key_or_group.split("@")[0]).is_dir()


def _type_problem(default, given) -> str | None:
    if default is None or given is None:
        return None  # no default to compare with, or an explicit null
    if isinstance(default, bool):
        return None if isinstance(given, bool) else f"expected true or false (default {default})"
    if isinstance(default, int | float):
        if isinstance(given, bool) or not isinstance(given, int | float):
            kind = "an integer" if isinstance(default, int) else "a number"
            return f"expected {kind} (default {default})"
        if isinstance(default, int) and isinstance(given, float) and not given.is_integer():
            return f"expected an integer (default {default})"
        return None
    if isinstance(default, ListConfig | list) and not isinstance(given, ListConfig | list):
        return f"expected a list like [a,b] (default {OmegaConf.to_container(default)})"
    if isinstance(default, DictConfig | dict) and not isinstance(given, DictConfig | dict):
        return "expected a mapping like '{key: value}'"
    return None
