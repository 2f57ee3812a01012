"""musicnn's weights: read from the wheel's tensor bundles, checked by sha256, no optimiser."""

import shutil

import numpy as np
import pytest

from muscall.errors import MuscallError
from muscall.models import musicnn_weights
from muscall.models.musicnn_weights import checkpoint_prefix, load_musicnn_tensors
from muscall.models.tf_bundle import read_bundle


@pytest.mark.parametrize("name", ["msd", "mtt"])
def test_network_tensors_without_adam_slots(name):
    tensors = load_musicnn_tensors(name)
    assert not [key for key in tensors if "Adam" in key or "power" in key]
    assert tensors["conv2d/kernel"].shape == (7, 38, 1, 204)  # HWIO: time, mel, in, out
    assert tensors["dense_1/kernel"].shape == (200, 50)
    assert all(t.dtype == np.float32 and np.isfinite(t).all() for t in tensors.values())
    moving = sum(t.size for k, t in tensors.items() if "moving_" in k)
    assert sum(t.size for t in tensors.values()) - moving == 787_159


def test_the_two_checkpoints_differ():
    msd, mtt = load_musicnn_tensors("msd"), load_musicnn_tensors("mtt")
    assert msd.keys() == mtt.keys()
    assert not np.allclose(msd["dense_1/kernel"], mtt["dense_1/kernel"])


def test_reading_by_prefix_keeps_the_optimizer_state_when_asked():
    everything = read_bundle(checkpoint_prefix("msd"))
    adam = [key for key in everything if key.endswith("/Adam")]
    assert adam and everything[adam[0]].shape == everything[adam[0][: -len("/Adam")]].shape


def test_a_changed_file_fails_in_one_line_naming_the_install(tmp_path, monkeypatch):
    folder = tmp_path / "MSD_musicnn"
    shutil.copytree(checkpoint_prefix("msd"), folder)
    with (folder / ".index").open("ab") as stream:
        stream.write(b"\0")
    monkeypatch.setattr(musicnn_weights, "_package_folder", lambda name: folder)
    with pytest.raises(MuscallError, match=r"sha256 differs.*pip install --no-deps musicnn") as err:
        load_musicnn_tensors("msd")
    assert "\n" not in str(err.value)


def test_a_missing_package_names_the_install_command(monkeypatch):
    def missing(package):
        raise ModuleNotFoundError(f"No module named {package!r}")

    monkeypatch.setattr(musicnn_weights.resources, "files", missing)
    with pytest.raises(MuscallError, match=r"make install"):
        load_musicnn_tensors("mtt")


def test_an_unknown_checkpoint_is_a_user_error():
    with pytest.raises(MuscallError, match="msd"):
        load_musicnn_tensors("gtzan")
