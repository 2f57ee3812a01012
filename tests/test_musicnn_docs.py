"""Every command of docs/musicnn.md composes as written."""

import re
import shlex

import pytest
from omegaconf import OmegaConf

from muscall.config import PROJECT_ROOT, compose_config


def _commands() -> list[list[str]]:
    text = (PROJECT_ROOT / "docs" / "musicnn.md").read_text(encoding="utf-8")
    text = text.replace("\\\n", " ")
    lines = re.findall(r"^\s*python src/run.py (.*?)(?:\s+#.*)?$", text, re.M)
    # bash expands the ~ of `source=~/Music` before Hydra sees it.
    return [[word.replace("=~/", "=/home/me/") for word in shlex.split(line)] for line in lines]


def test_the_page_has_commands():
    assert len(_commands()) >= 6


@pytest.mark.parametrize("overrides", _commands(), ids=" ".join)
def test_each_command_composes(overrides, tmp_path):
    cfg = compose_config(overrides, tmp_path)
    OmegaConf.to_container(cfg, resolve=True)
