"""Every config composes; every override a user is told about resolves."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from muscall.config import CONFIG_DIR, PROJECT_ROOT, register_resolvers

register_resolvers()


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


def _compose(overrides=()):
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


@pytest.mark.parametrize(
    "group", ["task", "data", "model", "loss", "trainer", "logger", "experiment", "debug"]
)
def test_every_option_of_every_group_composes(group, tmp_path):
    for option in _options(group):
        overrides = [f"{group}={option}"]
        if group == "data" and option == "folder":
            overrides.append(f"data.root={tmp_path}")
        if (group, option) == ("task", "prepare"):
            overrides.append(f"source={tmp_path}")
        cfg = _compose(overrides)
        cfg.paths.output_dir = str(tmp_path)
        # Resolving catches broken interpolations and missing mandatory values.
        OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)


def test_paths_are_absolute_and_rooted_in_the_project():
    cfg = _compose()
    assert Path(cfg.paths.data_dir) == PROJECT_ROOT / "data"
    assert Path(cfg.data.root).is_absolute()


def test_unknown_key_is_rejected_by_name():
    with pytest.raises(ConfigCompositionException, match="data.batchsize"):
        _compose(["data.batchsize=3"])


def test_user_folder_turns_off_generation_target():
    cfg = _compose(["data.root=/somewhere/else"])
    assert cfg.data.root != cfg.data.generate.root
