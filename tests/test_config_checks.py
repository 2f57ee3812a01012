"""Config mistakes fail before any work, naming the key (and the choices, for a group)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from muscall.config import PROJECT_ROOT, compose_config
from muscall.config_checks import check_config
from muscall.errors import MuscallError


def _check(overrides):
    check_config(compose_config(overrides), overrides, compose_config)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trainer.max_epochs=abc", "trainer.max_epochs=abc: expected an integer"),
        ("data.batch_size=2.5", "data.batch_size=2.5: expected an integer"),
        ("model.optimizer.lr=fast", "model.optimizer.lr=fast: expected a number"),
        ("trainer.enable_progress_bar=3", "expected true or false"),
        ("zeroshot.templates=foo", "zeroshot.templates=foo: expected a list"),
    ],
)
def test_a_value_of_the_wrong_type_is_named(override, message):
    with pytest.raises(MuscallError, match=message):
        _check([override])


def test_well_typed_values_group_choices_and_nulls_pass():
    _check(
        [
            "model=tiny",  # a group: its values are the defaults the others are checked against
            "trainer.max_epochs=3",
            "model.optimizer.lr=1",  # an int where a float is expected is a number
            "data.eval_hop_seconds=0.5",  # null by default: anything goes
            "trainer.gradient_clip_val=null",
            "zeroshot.templates=['a {} song']",
            "+data.extra=1",
        ]
    )


def test_a_required_value_left_out_is_named():
    with pytest.raises(MuscallError, match=r"^data.root: a value is required"):
        _check(["data=folder"])


def _run(*overrides):
    return subprocess.run(
        [sys.executable, "src/run.py", *overrides],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_entrypoint_stops_before_any_work_with_one_line(tmp_path):
    done = _run("trainer.max_epochs=abc", f"hydra.run.dir={tmp_path}")
    assert done.returncode == 2
    assert "trainer.max_epochs=abc: expected an integer" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "checkpoints").exists()


def test_hydra_names_an_unknown_choice_with_the_options_and_an_unknown_key():
    choice = _run("data=nope")
    assert choice.returncode == 1
    assert "Could not find 'data/nope'" in choice.stderr
    assert "synthmusic" in choice.stderr and "folder" in choice.stderr
    key = _run("batchsize=3")
    assert key.returncode == 1 and "Key 'batchsize' is not in struct" in key.stderr
