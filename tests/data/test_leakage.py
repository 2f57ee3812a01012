import shutil

import numpy as np

from muscall.data.leakage import fingerprint, shared_with_training


def _npy(path, seed, n=200_000):
    np.save(path, np.random.default_rng(seed).standard_normal(n).astype(np.float32))
    return path


def test_copies_under_other_names_and_shared_ids_are_counted(tmp_path):
    train = [(f"t{i}", _npy(tmp_path / f"t{i}.npy", i)) for i in range(5)]
    copy = shutil.copy(train[2][1], tmp_path / "renamed.npy")
    fresh = [(f"e{i}", _npy(tmp_path / f"e{i}.npy", 100 + i)) for i in range(4)]
    evaluation = {
        "clean": fresh,
        "copied": [*fresh[:2], ("other-id", copy)],
        "same id": [("t4", fresh[3][1])],
        "same file": [(None, train[0][1])],
    }
    got = shared_with_training(train, evaluation)
    assert got == {"clean": 0, "copied": 1, "same id": 1, "same file": 1}


def test_fingerprints_tell_files_apart_and_skip_unreadable_ones(tmp_path):
    a = _npy(tmp_path / "a.npy", 0)
    b = _npy(tmp_path / "b.npy", 1)
    assert fingerprint(a) != fingerprint(b)
    assert fingerprint(tmp_path / "missing.npy") is None
