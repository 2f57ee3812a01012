"""Searching a library index with a model: by a text query or by an example track."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from muscall.errors import MuscallError
from muscall.library.index import BACKENDS, Hit, LibraryIndex


def check_model(model, index: LibraryIndex) -> None:
    """Refuse to compare a model's embeddings with those another model indexed."""
    if model.fingerprint != index.model_fingerprint:
        raise MuscallError(
            f"index={index.folder}: built with the model {index.model_source} "
            f"(fingerprint {index.model_fingerprint[:12]}), not {model.source} "
            f"(fingerprint {model.fingerprint[:12]}); re-index with task=index ckpt_path=..."
        )


def choose_backend(size: int, backend: str, faiss_threshold: int) -> str:
    """ "exact" or "faiss"; "auto" picks FAISS from `faiss_threshold` tracks up."""
    if backend == "auto":
        return "faiss" if size >= faiss_threshold else "exact"
    if backend not in BACKENDS:
        raise MuscallError(f"library.backend={backend}: choose one of auto, {', '.join(BACKENDS)}")
    return backend


def search_text(
    model, index: LibraryIndex, query: str, k: int = 10, backend: str = "exact"
) -> list[Hit]:
    """The k tracks closest to a text query; the text is only ever embedded."""
    if not isinstance(query, str) or not query.strip():
        raise MuscallError("query: give the text to search for, e.g. query='warm jazz piano trio'")
    check_model(model, index)
    text_emb = model.embed_text([query]).numpy()  # (1, D)
    return index.search(text_emb, k, backend)[0]


def search_audio(
    model,
    index: LibraryIndex,
    audio: Path | str | np.ndarray,
    k: int = 10,
    sample_rate: int | None = None,
    backend: str = "exact",
) -> list[Hit]:
    """The k tracks closest to an audio file or a mono waveform (at `sample_rate`)."""
    check_model(model, index)
    if not isinstance(audio, np.ndarray):
        audio = Path(audio).expanduser()
        if not audio.is_file():
            raise MuscallError(f"query_audio={audio}: audio file not found")
    try:
        audio_emb = model.embed_audio([audio], sample_rate=sample_rate).numpy()  # (1, D)
    except MuscallError:
        raise
    except Exception as error:  # noqa: BLE001 - decoders raise many types
        name = "the query waveform" if isinstance(audio, np.ndarray) else f"query_audio={audio}"
        raise MuscallError(f"{name}: cannot embed audio ({error})") from error
    return index.search(audio_emb, k, backend)[0]
