"""Building and updating an index with the real tiny model: only what changed is decoded."""

import os
import re

import numpy as np
import pytest

from muscall.errors import MuscallError
from muscall.library.build import update_index
from muscall.library.index import LibraryIndex
from tests.helpers.audio import write_tone

from .conftest import Watched, copy_library


def test_index_holds_every_readable_track_and_lists_the_rest(indexed_library):
    index, update = indexed_library["index"], indexed_library["update"]
    assert [e.path for e in index.entries] == sorted(indexed_library["paths"])
    assert index.embeddings.shape == (20, index.embed_dim)
    np.testing.assert_allclose(np.linalg.norm(index.embeddings, axis=1), 1.0, rtol=1e-5)
    reasons = {s.path: s.reason for s in update.skipped}
    assert reasons.keys() == {"artist0/broken.wav", "artist1/linked_out.wav"}
    assert re.search(r"^cannot (read|decode) audio", reasons["artist0/broken.wav"])
    assert "outside" in reasons["artist1/linked_out.wav"]
    entry = index.entries[0]
    assert entry.duration == pytest.approx(1.0, abs=0.01) and len(entry.sha256) == 64
    loaded = LibraryIndex.load(indexed_library["index_dir"])
    assert loaded.complete and loaded.skipped == sorted(update.skipped, key=lambda s: s.path)


def test_rerun_decodes_only_new_and_changed_files_and_drops_deleted(
    indexed_library, tmp_path, tiny_model
):
    root, index_dir = copy_library(indexed_library, tmp_path)
    first, _ = update_index(tiny_model, root, index_dir, workers=0, progress=False)
    model = Watched(tiny_model)
    unchanged, _ = update_index(model, root, index_dir, workers=0, progress=False)
    assert model.decoded == [] and len(unchanged) == 20

    paths = indexed_library["paths"]
    write_tone(root / paths[1], seconds=2.0, freq=999.0)  # changed content
    os.utime(root / paths[2], (1, 1))  # touched: same content, new mtime
    (root / paths[3]).unlink()
    os.rename(root / paths[4], root / "moved.wav")  # same content, new path
    write_tone(root / "new" / "added.flac", freq=700.0)
    model = Watched(tiny_model)
    index, update = update_index(model, root, index_dir, workers=2, progress=False)

    assert sorted(model.decoded) == ["added.flac", paths[1].split("/")[-1]]
    assert (update.kept, update.reused) == (16, 2)
    assert sorted(update.removed) == sorted([paths[3], paths[4]])
    assert len(index) == 20 and "moved.wav" in {e.path for e in index.entries}
    before = {e.path: first.embeddings[i] for i, e in enumerate(first.entries)}
    for i, entry in enumerate(index.entries):
        if entry.path in before and entry.path != paths[1]:
            np.testing.assert_array_equal(index.embeddings[i], before[entry.path])
    assert index.entries[[e.path for e in index.entries].index("moved.wav")].sha256 == next(
        e.sha256 for e in first.entries if e.path == paths[4]
    )
    # The corrupt file failed before and has not changed: not tried again.
    assert "broken.wav" not in model.decoded


def test_an_interrupted_run_keeps_its_work_and_resumes(indexed_library, tmp_path, tiny_model):
    root, index_dir = copy_library(indexed_library, tmp_path)
    stopping = Watched(tiny_model, stop_after=8)
    with pytest.raises(KeyboardInterrupt):
        update_index(stopping, root, index_dir, workers=0, progress=False, save_every_seconds=1e9)
    partial = LibraryIndex.load(index_dir)
    failed = [s for s in partial.skipped if s.size is not None]  # the corrupt file, if reached
    assert not partial.complete and len(partial) + len(failed) == len(stopping.decoded) == 8

    model = Watched(tiny_model)
    index, update = update_index(model, root, index_dir, workers=0, progress=False)
    assert index.complete and len(index) == 20 and update.kept == len(partial)
    assert len(model.decoded) == 13 and not set(model.decoded) & set(stopping.decoded)


def test_another_model_re_embeds_everything(indexed_library, tmp_path, tiny_model):
    root, index_dir = copy_library(indexed_library, tmp_path)
    update_index(tiny_model, root, index_dir, workers=0, progress=False)
    other = Watched(tiny_model, fingerprint="0" * 16)
    index, update = update_index(other, root, index_dir, workers=0, progress=False)
    assert update.rebuilt and len(other.decoded) == 21 and index.model_fingerprint == "0" * 16


def test_an_index_belongs_to_one_folder_and_never_takes_over_a_user_folder(
    indexed_library, tmp_path, tiny_model
):
    elsewhere = tmp_path / "other_music"
    write_tone(elsewhere / "a.wav")
    with pytest.raises(MuscallError, match="give this folder its own index"):
        update_index(tiny_model, elsewhere, indexed_library["index_dir"], progress=False)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.tex").write_text("x")
    with pytest.raises(MuscallError, match="not a library index"):
        update_index(tiny_model, elsewhere, tmp_path / "docs", progress=False)
