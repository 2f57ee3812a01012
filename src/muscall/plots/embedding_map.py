"""2-D maps of embeddings: UMAP, audio and text in one map, coloured by a label when one exists.

UMAP (imported only when a map is drawn: it pulls numba, slow to import) runs seeded, hence
single-threaded and deterministic. Below `UMAP_MIN_POINTS` its spectral layout fails, and
t-SNE draws the map instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from muscall.extras import load
from muscall.plots.figures import new_figure, save

MAP_FEATURE = "Embedding maps"

# At most this many points in one map: UMAP's time, and a picture one can still read.
MAP_POINTS = 2000
UMAP_MIN_POINTS = 4
UMAP_NEIGHBOURS = 15
# More labels than this get colours but no legend.
LEGEND_LABELS = 20
# Marker and size of each modality; "item" is a map of one kind (a library).
MARKERS = {"audio": ("o", 14), "text": ("^", 46), "item": ("o", 14)}


def embedding_map(
    embeddings: np.ndarray,
    out_path: Path,
    labels: Sequence[str] | None = None,
    title: str = "",
    seed: int = 0,
) -> Path:
    """A PNG map of (N, D) embeddings (a library's, say), coloured by `labels` when given.

    Above `MAP_POINTS` items, a seeded sample of them is drawn.
    """
    embeddings = np.asarray(embeddings, dtype=np.float32)
    if labels is not None and len(labels) != len(embeddings):
        raise ValueError(f"{len(labels)} labels for {len(embeddings)} embeddings")
    keep = sample_rows(len(embeddings), MAP_POINTS, seed)
    coords = project_2d(embeddings[keep], seed)
    kept = None if labels is None else [labels[i] for i in keep]
    return draw_map(coords, ["item"] * len(keep), kept, Path(out_path), title)


def paired_map(
    audio_emb: np.ndarray,
    text_emb: np.ndarray,
    out_path: Path,
    audio_labels: Sequence[str] | None = None,
    text_labels: Sequence[str] | None = None,
    title: str = "",
    seed: int = 0,
) -> Path:
    """Audio (dots) and text (triangles) in one map: coloured by label, or else by modality."""
    if (audio_labels is None) != (text_labels is None):
        raise ValueError("label both the audio and the text points, or neither")
    both = np.concatenate([np.asarray(audio_emb), np.asarray(text_emb)]).astype(np.float32)
    kinds = ["audio"] * len(audio_emb) + ["text"] * len(text_emb)
    labels = None if audio_labels is None else [*audio_labels, *text_labels]
    return draw_map(project_2d(both, seed), kinds, labels, Path(out_path), title)


def sample_rows(count: int, limit: int, seed: int = 0) -> np.ndarray:
    """All row indices up to `limit` of them; above it, a seeded sample, in order."""
    if count <= limit:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size=limit, replace=False))


def project_2d(embeddings: np.ndarray, seed: int = 0) -> np.ndarray:
    """(N, 2) map coordinates of (N, D) embeddings."""
    count = len(embeddings)
    if count < 2:
        return np.zeros((count, 2), dtype=np.float32)
    if count < UMAP_MIN_POINTS:
        TSNE = load("sklearn.manifold", "maps", MAP_FEATURE).TSNE
        return TSNE(perplexity=count - 1, init="pca", random_state=seed).fit_transform(embeddings)
    umap = load("umap", "maps", MAP_FEATURE)
    reducer = umap.UMAP(
        n_neighbors=min(UMAP_NEIGHBOURS, count - 1), metric="cosine", random_state=seed
    )
    with warnings.catch_warnings():
        # "n_jobs overridden by setting random_state": the seed is the point.
        warnings.simplefilter("ignore", UserWarning)
        return reducer.fit_transform(embeddings)


def draw_map(
    coords: np.ndarray,
    kinds: Sequence[str],
    labels: Sequence[str] | None,
    out_path: Path,
    title: str,
) -> Path:
    """Scatter `coords` (N, 2), one marker per kind, one colour per label (or per kind)."""
    fig = new_figure(7.5, 6)
    ax = fig.subplots()
    kinds = np.asarray(kinds)
    colour_of = _label_colours(labels) if labels is not None else None
    for kind, (marker, size) in MARKERS.items():
        rows = np.flatnonzero(kinds == kind)
        if len(rows) == 0:
            continue
        if colour_of is None:
            colour = {"audio": "C0", "text": "C1"}.get(kind, "C0")
        else:
            colour = [colour_of[labels[i]] for i in rows]
        edge = "black" if kind == "text" else "none"  # a label's text among its audio
        ax.scatter(
            *coords[rows].T,
            c=colour,
            marker=marker,
            s=size,
            alpha=0.8,
            label=kind,
            edgecolors=edge,
            linewidths=0.6,
        )
    _legend(ax, colour_of, kinds)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or "embedding map")
    return save(fig, out_path)


def _label_colours(labels: Sequence[str]) -> dict[str, tuple]:
    from matplotlib import colormaps

    names = sorted(set(labels))
    cmap = colormaps["tab20" if len(names) <= 20 else "turbo"].resampled(max(len(names), 1))
    return {name: cmap(i) for i, name in enumerate(names)}


def _legend(ax, colour_of: dict[str, tuple] | None, kinds: np.ndarray) -> None:
    from matplotlib.lines import Line2D

    shown = sorted(set(kinds.tolist()), key=list(MARKERS).index)
    if colour_of is None:
        if len(shown) > 1:
            ax.legend(fontsize=8, loc="best")
        return
    handles = []
    if len(colour_of) <= LEGEND_LABELS:
        handles = [
            Line2D([], [], ls="none", marker="s", color=colour, label=name)
            for name, colour in colour_of.items()
        ]
    if len(shown) > 1:
        handles += [
            Line2D([], [], ls="none", marker=MARKERS[kind][0], color="grey", label=kind)
            for kind in shown
        ]
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
