"""The installed environment: the lock, the torch pair, and a core that needs no extra."""

from __future__ import annotations

import importlib.metadata as metadata
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tomllib

from muscall.environment import TorchPairError, check_torch_pair
from muscall.extras import EXTRAS

ROOT = Path(__file__).resolve().parents[1]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_installed_package_is_in_the_lock_at_its_version():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked: dict[str, set[str]] = {}
    for package in lock["package"]:
        locked.setdefault(_normal(package["name"]), set()).add(package["version"])
    installed = {_normal(d.metadata["Name"]): d.version for d in metadata.distributions()}
    missing = {name: v for name, v in installed.items() if name not in locked}
    other = {n: v for n, v in installed.items() if n in locked and v not in locked[n]}
    assert not missing, f"installed but not in uv.lock: {missing}"
    assert not other, f"installed at a version uv.lock does not hold: {other}"
    assert {"torch", "torchaudio", "tinysoundfont", "musicnn"} <= installed.keys()


def test_the_lock_pins_torch_and_torchaudio_to_one_release():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    versions = {p["name"]: p["version"] for p in lock["package"]}
    assert versions["torch"] == versions["torchaudio"]
    assert metadata.version("torch").split("+")[0] == versions["torch"]


def test_a_mismatched_torch_pair_is_named_with_both_versions_and_the_pair_to_install():
    with pytest.raises(TorchPairError) as caught:
        check_torch_pair({"torch": "2.11.0+cu130", "torchaudio": "2.11.1"})
    message = str(caught.value)
    assert "torch 2.11.0+cu130" in message and "torchaudio 2.11.1" in message
    assert "torch==" in message and "torchaudio==" in message
    check_torch_pair({"torch": "2.11.0+cu130", "torchaudio": "2.11.0+cu130"})  # one release


def test_run_py_with_a_mismatched_pair_fails_in_one_line(tmp_path):
    # A torchaudio of another release first on the path, as a user's own environment has it.
    info = tmp_path / "torchaudio-2.11.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: torchaudio\nVersion: 2.11.1\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT / "src")])}
    result = subprocess.run(
        [sys.executable, str(ROOT / "src" / "run.py"), "task=train"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "torchaudio 2.11.1" in lines[0] and "torch==" in lines[0]


# Each optional package shadowed by one that fails to import, as if it were not installed.
HIDDEN = sorted({module for modules in EXTRAS.values() for module in modules})
CORE_AND_FEATURES = """
import numpy as np
import muscall.api, muscall.tasks.train, muscall.tasks.retrieval, muscall.tasks.zeroshot
import muscall.tasks.index, muscall.tasks.search, muscall.tasks.generate
import muscall.lightning.module, muscall.data.datamodule, muscall.export.folder
from muscall.extras import MissingExtra, check_overrides

def extra_named(call):
    try:
        call()
    except MissingExtra as error:
        return str(error).split("'")[1]
    return None

import importlib
from muscall.library.faiss_search import build_hnsw
from muscall.plots.embedding_map import project_2d
named = {
    "serve": extra_named(lambda: importlib.import_module("muscall.serve.app")),
    "shards": extra_named(lambda: importlib.import_module("muscall.data.shards.datamodule")),
    "search": extra_named(lambda: build_hnsw(np.zeros((4, 8), np.float32))),
    "maps": extra_named(lambda: project_2d(np.random.rand(500, 8))),
    "sweep": extra_named(lambda: check_overrides(["hparams_search=muscall_optuna"])),
    "cluster": extra_named(lambda: check_overrides(["hydra/launcher=slurm"])),
}
print(named)
assert all(named[k] == k for k in named), named
"""


def test_the_core_imports_with_every_extra_absent_and_each_feature_names_its_extra(tmp_path):
    for module in HIDDEN:
        package = tmp_path.joinpath(*module.split("."))
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text(
            f"raise ModuleNotFoundError({f'No module named {module!r}'!r}, name={module!r})\n"
        )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT / "src")])}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CORE_AND_FEATURES)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
