"""task=search: the tracks of a library index closest to a text query or an example track."""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from muscall.errors import MuscallError
from muscall.library.index import LibraryIndex
from muscall.library.search import check_model, choose_backend, search_audio, search_text
from muscall.runs.assembly import start_run
from muscall.tasks.index import index_folder

log = logging.getLogger(__name__)


def run(cfg: DictConfig) -> dict[str, float]:
    import muscall

    query, query_audio, map_path = cfg.get("query"), cfg.get("query_audio"), cfg.get("map")
    if query is not None and query_audio is not None:
        raise MuscallError("query / query_audio: give one of them, not both")
    if query is None and query_audio is None and map_path is None:
        raise MuscallError(
            "query / query_audio: give one, e.g. query='warm jazz piano trio' "
            "(or map=FILE.png for a map of the library)"
        )
    if cfg.k < 1:
        raise MuscallError(f"k={cfg.k}: ask for at least one result")
    source = Path(cfg.source).expanduser().resolve() if cfg.get("source") else None
    index = LibraryIndex.load(index_folder(cfg, source))
    if not index.complete:
        log.warning("index=%s is partial (task=index did not finish): re-run it", index.folder)
    start_run(cfg)
    if map_path is not None:
        print(f"map of {len(index)} tracks: {library_map(index, Path(str(map_path)))}")
        if query is None and query_audio is None:
            return {"num_results": 0.0, "tracks": float(len(index))}
    # The index's own model unless ckpt_path names one; either way it must be the same weights.
    model = muscall.load(cfg.get("ckpt_path") or index.model_source)
    check_model(model, index)
    backend = choose_backend(len(index), cfg.library.backend, cfg.library.faiss_threshold)
    if query is not None:
        hits = search_text(model, index, str(query), cfg.k, backend)
    else:
        hits = search_audio(model, index, Path(str(query_audio)), cfg.k, backend=backend)
    for hit in hits:
        tags = index.top_tags(hit.position)
        print(
            f"{hit.score:.4f}\t{index.root / hit.path}" + (f"\t{', '.join(tags)}" if tags else "")
        )
    return {"num_results": float(len(hits)), "top_score": hits[0].score if hits else float("nan")}


def library_map(index: LibraryIndex, out: Path) -> Path:
    """A 2-D map of every track of `index`, coloured by its top-level folder when there are several."""
    from muscall.plots import embedding_map

    folders = [
        Path(entry.path).parts[0] if len(Path(entry.path).parts) > 1 else "(top level)"
        for entry in index.entries
    ]
    labels = folders if len(set(folders)) > 1 else None
    title = f"{index.root.name}: {len(index)} tracks"
    return embedding_map(index.embeddings, out.expanduser(), labels=labels, title=title)
