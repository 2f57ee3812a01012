import numpy as np
import pytest

from muscall.plots.embedding_map import (
    MAP_POINTS,
    embedding_map,
    paired_map,
    project_2d,
    sample_rows,
)

from .conftest import assert_picture


def _unit(rows, dim=16, seed=0):
    emb = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return emb / np.linalg.norm(emb, axis=1, keepdims=True)


@pytest.mark.parametrize("rows", [1, 2, 3, 4, 40])
def test_any_small_number_of_points_gets_a_map(rows):
    coords = project_2d(_unit(rows))
    assert coords.shape == (rows, 2) and np.isfinite(coords).all()


def test_the_map_is_deterministic_for_a_seed():
    emb = _unit(30)
    np.testing.assert_array_equal(project_2d(emb, seed=3), project_2d(emb, seed=3))


def test_library_map_with_labels(tmp_path):
    labels = ["rock", "jazz", "pop"] * 10
    path = embedding_map(_unit(30), tmp_path / "library.png", labels, title="library")
    assert path == tmp_path / "library.png"
    assert_picture(path)
    with pytest.raises(ValueError, match="labels"):
        embedding_map(_unit(30), tmp_path / "bad.png", labels[:3])


def test_audio_and_text_in_one_map(tmp_path):
    assert_picture(paired_map(_unit(10), _unit(10, seed=1), tmp_path / "pair.png"))


def test_big_sets_are_sampled_in_order():
    keep = sample_rows(10 * MAP_POINTS, MAP_POINTS, seed=0)
    assert len(keep) == MAP_POINTS and np.all(np.diff(keep) > 0)
    np.testing.assert_array_equal(keep, sample_rows(10 * MAP_POINTS, MAP_POINTS, seed=0))
    assert sample_rows(5, MAP_POINTS).tolist() == [0, 1, 2, 3, 4]
