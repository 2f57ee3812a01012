"""The index format, exact and FAISS search and path confinement, on synthetic embeddings."""

import json
from pathlib import Path

import numpy as np
import pytest

from muscall.errors import MuscallError
from muscall.library import faiss_search, store
from muscall.library.index import Entry, LibraryIndex, exact_top_k


def unit_rows(count, dim=16, seed=0):
    x = np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def make_index(root: Path, count=30, dim=16) -> LibraryIndex:
    entries = []
    for i in range(count):
        path = root / f"d{i % 3}" / f"t{i:02d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * i)
        entries.append(Entry(path.relative_to(root).as_posix(), 1.0, i, 0.0, f"{i:064x}"))
    return LibraryIndex(root, "model.ckpt", "f" * 16, dim, entries, unit_rows(count, dim))


def test_exact_top_k_is_the_full_sort():
    emb, queries = unit_rows(200), unit_rows(7, seed=1)
    scores, positions = exact_top_k(emb, queries, 10)
    full = queries @ emb.T
    np.testing.assert_array_equal(positions, np.argsort(-full, axis=1)[:, :10])
    np.testing.assert_allclose(scores, np.sort(full, axis=1)[:, ::-1][:, :10], rtol=1e-6)
    assert exact_top_k(emb[:3], queries, 10)[1].shape == (7, 3)  # k larger than the index


def test_save_load_round_trip_and_search(tmp_path):
    index = make_index(tmp_path / "music")
    index.save(tmp_path / "index", complete=True, now="2026-01-01T00:00:00+00:00")
    loaded = LibraryIndex.load(tmp_path / "index")
    assert loaded.entries == index.entries and loaded.root == index.root
    np.testing.assert_array_equal(loaded.embeddings, index.embeddings)
    hits = loaded.search(index.embeddings[5], k=4)[0]
    assert hits[0].path == index.entries[5].path and hits[0].score == pytest.approx(1.0)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    with pytest.raises(MuscallError, match="k=0"):
        loaded.search(index.embeddings[5], k=0)
    with pytest.raises(MuscallError, match="16-d"):
        loaded.search(np.zeros(8, np.float32))


def test_each_save_is_a_new_generation_and_the_previous_is_kept(tmp_path):
    index = make_index(tmp_path / "music")
    for _ in range(3):
        index.save(tmp_path / "index", complete=True, now="t")
    assert sorted(p.name for p in (tmp_path / "index").glob("gen-*")) == [
        "gen-000002", "gen-000003",
    ]  # fmt: skip
    # A save killed midway leaves a newer folder that the live index never names.
    (tmp_path / "index" / "gen-000004").mkdir()
    assert LibraryIndex.load(tmp_path / "index").meta["generation"] == 3


def test_damaged_indexes_are_refused_by_name(tmp_path):
    index = make_index(tmp_path / "music")
    folder = tmp_path / "index"
    with pytest.raises(MuscallError, match="no library index there"):
        LibraryIndex.load(folder)
    index.save(folder, complete=True, now="t")
    embeddings = folder / "gen-000001" / "embeddings.npy"
    data = embeddings.read_bytes()
    embeddings.write_bytes(data[:-100])
    with pytest.raises(MuscallError, match="embeddings.npy.*damaged"):
        LibraryIndex.load(folder)
    embeddings.write_bytes(data)

    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "num_entries": 29}))
    with pytest.raises(MuscallError, match="do not match the index metadata"):
        LibraryIndex.load(folder)
    (folder / "meta.json").write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(MuscallError, match="newer"):
        LibraryIndex.load(folder)
    (folder / "meta.json").write_text("{not json")
    with pytest.raises(MuscallError, match="unreadable index metadata"):
        LibraryIndex.load(folder)


def test_resolve_serves_only_entries_inside_the_root(tmp_path):
    root = tmp_path / "music"
    index = make_index(root)
    assert index.resolve("d1/t01.wav") == root / "d1" / "t01.wav"
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"x")
    (root / "d0" / "t00.wav").unlink()
    (root / "d0" / "t00.wav").symlink_to(secret)  # swapped for a link out after indexing
    for bad in ("../secret.wav", str(secret), "d1/../d1/t01.wav", "d1/nope.wav", "d0/t00.wav"):
        with pytest.raises(MuscallError):
            index.resolve(bad)


def test_faiss_agrees_with_exact_and_its_graph_is_cached(tmp_path, monkeypatch):
    index = make_index(tmp_path / "music", count=300)
    index.save(tmp_path / "index", complete=True, now="t")
    loaded = LibraryIndex.load(tmp_path / "index")
    queries = index.embeddings[:20] + 0.05 * unit_rows(20, seed=2)
    exact = loaded.search(queries, k=5)
    approx = loaded.search(queries, k=5, backend="faiss")
    assert [h[0].path for h in approx] == [h[0].path for h in exact]
    assert approx[0][0].score == pytest.approx(exact[0][0].score, rel=1e-5)
    cache = tmp_path / "index" / "gen-000001" / faiss_search.CACHE_FILE
    assert cache.is_file()

    def no_build(_):
        raise AssertionError("the cached graph should have been used")

    monkeypatch.setattr(faiss_search, "build_hnsw", no_build)
    reloaded = LibraryIndex.load(tmp_path / "index")
    assert [h[0].path for h in reloaded.search(queries, 5, "faiss")] == [h[0].path for h in exact]
    assert store.latest_generation(tmp_path / "index") == 1
