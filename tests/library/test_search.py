import numpy as np
import pytest

from muscall.errors import MuscallError
from muscall.library.search import choose_backend, search_audio, search_text

from .conftest import Watched


def test_a_track_of_the_library_finds_itself_first(indexed_library, tiny_model):
    index = indexed_library["index"]
    for entry in index.entries[::7]:
        hits = search_audio(tiny_model, index, indexed_library["root"] / entry.path, k=3)
        assert hits[0].path == entry.path and hits[0].score == pytest.approx(1.0, abs=1e-4)


def test_a_waveform_query_works_like_a_file(indexed_library, tiny_model):
    import soundfile as sf

    index = indexed_library["index"]
    wave, rate = sf.read(indexed_library["root"] / index.entries[2].path, dtype="float32")
    hits = search_audio(tiny_model, index, wave, k=1, sample_rate=rate)
    assert hits[0].path == index.entries[2].path


def test_text_search_returns_k_hits_best_first(indexed_library, tiny_model):
    hits = search_text(tiny_model, indexed_library["index"], "warm jazz piano trio", k=5)
    assert len(hits) == 5 and len({h.path for h in hits}) == 5
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    query = "../../etc/passwd; rm -rf /"  # only ever embedded
    assert len(search_text(tiny_model, indexed_library["index"], query, k=25)) == 20


def test_faiss_top1_agrees_with_exact_on_the_library(indexed_library, tiny_model):
    index = indexed_library["index"]
    for entry in index.entries[::5]:
        path = indexed_library["root"] / entry.path
        exact = search_audio(tiny_model, index, path, k=3)
        approx = search_audio(tiny_model, index, path, k=3, backend="faiss")
        assert approx[0].path == exact[0].path == entry.path


def test_queries_a_user_gets_wrong_are_refused_by_name(indexed_library, tiny_model, tmp_path):
    index = indexed_library["index"]
    with pytest.raises(MuscallError, match="re-index"):
        search_text(Watched(tiny_model, fingerprint="0" * 16), index, "piano")
    with pytest.raises(MuscallError, match="query_audio=.*not found"):
        search_audio(tiny_model, index, tmp_path / "nope.wav")
    with pytest.raises(MuscallError, match="broken.wav"):
        search_audio(tiny_model, index, indexed_library["root"] / "artist0" / "broken.wav")
    with pytest.raises(MuscallError, match="query"):
        search_text(tiny_model, index, "  ")
    with pytest.raises(MuscallError, match="library.backend"):
        choose_backend(10, "annoy", 100)
    assert (
        choose_backend(100, "auto", 100) == "faiss" and choose_backend(99, "auto", 100) == "exact"
    )
    assert np.isfinite(index.embeddings).all()
