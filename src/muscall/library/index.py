"""A library index in memory: entries, their embeddings, exact search and safe path lookup."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from muscall.errors import MuscallError
from muscall.library import store
from muscall.library.walk import Skipped

log = logging.getLogger(__name__)

BACKENDS = ("exact", "faiss")
TOP_TAGS = 3  # tags shown beside a track by task=search and the search page


@dataclass(frozen=True)
class Entry:
    """One indexed track: `path` is POSIX, relative to the root; `sha256` of the file's bytes."""

    path: str
    duration: float
    size: int
    mtime: float
    sha256: str


@dataclass(frozen=True)
class Hit:
    """A search result: the entry's row, its path relative to the root, its cosine score."""

    position: int
    path: str
    score: float


@dataclass
class LibraryIndex:
    """The entries of a library (sorted by path) and their unit-norm embeddings, row for row."""

    root: Path
    model_source: str
    model_fingerprint: str
    embed_dim: int
    entries: list[Entry]
    embeddings: np.ndarray  # (N, D) float32
    skipped: list[Skipped] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    folder: Path | None = None
    # The tag vocabulary when each embedding is a tag profile (pretrained:tagbridge), else None.
    tags: list[str] | None = None
    _positions: dict[str, int] = field(default_factory=dict, repr=False)
    _faiss: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._positions = {entry.path: i for i, entry in enumerate(self.entries)}

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def complete(self) -> bool:
        """False for the partial save of a task=index that did not finish."""
        return bool(self.meta.get("complete", True))

    @classmethod
    def load(cls, path: str | Path) -> LibraryIndex:
        """The index saved in folder `path`; MuscallError if missing, damaged or too new."""
        folder = Path(path).expanduser().resolve()
        meta = store.read_meta(folder)
        embeddings, entries, skipped = store.read_generation(folder, meta)
        try:
            return cls(
                root=Path(meta["root"]),
                model_source=str(meta.get("model_source", "")),
                model_fingerprint=str(meta["model_fingerprint"]),
                embed_dim=int(meta["embed_dim"]),
                entries=[Entry(**row) for row in entries],
                embeddings=embeddings,
                skipped=[Skipped(**row) for row in skipped],
                meta=meta,
                folder=folder,
                tags=meta.get("tags"),
            )
        except TypeError as error:  # a row with missing or unknown fields
            raise MuscallError(
                f"index={folder}: malformed entry ({error}); re-run task=index"
            ) from error

    def save(self, folder: Path, complete: bool, now: str) -> None:
        """Write this index as the next generation of `folder` (see muscall.library.store)."""
        meta = {
            "format_version": store.FORMAT_VERSION,
            "generation": store.latest_generation(folder) + 1,
            "complete": complete,
            "root": str(self.root),
            "model_source": self.model_source,
            "model_fingerprint": self.model_fingerprint,
            "embed_dim": self.embed_dim,
            "num_entries": len(self.entries),
            "num_skipped": len(self.skipped),
            "created": self.meta.get("created", now),
            "updated": now,
            **({"tags": list(self.tags)} if self.tags else {}),
        }
        files = {
            "embeddings.npy": store.npy_bytes(self.embeddings.reshape(-1, self.embed_dim)),
            "entries.jsonl": store.jsonl_bytes([asdict(e) for e in self.entries]),
            "skipped.jsonl": store.jsonl_bytes([asdict(s) for s in self.skipped]),
        }
        self.meta = store.save_generation(folder, meta, files)
        self.folder = folder

    def top_tags(self, position: int, k: int = TOP_TAGS) -> list[str]:
        """The strongest tags of entry `position`'s profile; [] when the index has no tags."""
        if not self.tags:
            return []
        row = self.embeddings[position]
        return [self.tags[i] for i in np.argsort(-row, kind="stable")[:k] if row[i] > 0]

    def search(self, queries: np.ndarray, k: int = 10, backend: str = "exact") -> list[list[Hit]]:
        """The k best entries for each query (Q, D) or (D,), best first, by cosine score.

        `backend`: "exact" (every entry scored) or "faiss" (an HNSW graph, approximate).
        """
        queries = np.asarray(queries, dtype=np.float32)
        queries = queries[None] if queries.ndim == 1 else queries
        if queries.ndim != 2 or queries.shape[1] != self.embed_dim:
            raise MuscallError(
                f"query embeddings of shape {queries.shape}: this index holds {self.embed_dim}-d ones"
            )
        if k < 1:
            raise MuscallError(f"k={k}: ask for at least one result")
        if backend not in BACKENDS:
            raise MuscallError(f"library.backend={backend}: choose one of {', '.join(BACKENDS)}")
        if len(self) == 0:
            return [[] for _ in queries]
        if backend == "faiss":
            from muscall.library.faiss_search import faiss_top_k

            scores, positions = faiss_top_k(self, queries, k)
        else:
            scores, positions = exact_top_k(self.embeddings, queries, k)
        return [
            [
                Hit(int(p), self.entries[p].path, float(s))
                for s, p in zip(row_s, row_p, strict=True)
                if p >= 0
            ]
            for row_s, row_p in zip(scores, positions, strict=True)
        ]

    def resolve(self, relative: str) -> Path:
        """The absolute path of entry `relative`, only if it is one and lies inside the root."""
        parts = Path(relative).parts
        if Path(relative).is_absolute() or ".." in parts or "\\" in relative:
            raise MuscallError(f"{relative!r}: not a path inside the indexed folder")
        if relative not in self._positions:
            raise MuscallError(f"{relative!r}: not a track of this index")
        path = self.root / relative
        real = path.resolve()
        if not real.is_relative_to(self.root.resolve()) or not real.is_file():
            raise MuscallError(f"{relative!r}: no longer a file inside {self.root}")
        return path


def exact_top_k(
    embeddings: np.ndarray, queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, positions), each (Q, min(k, N)), best first; ties go to the lower position."""
    scores = queries @ embeddings.T  # (Q, N)
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    top_scores = np.take_along_axis(scores, top, axis=1)
    order = np.lexsort((top, -top_scores), axis=1)
    return np.take_along_axis(top_scores, order, axis=1), np.take_along_axis(top, order, axis=1)
