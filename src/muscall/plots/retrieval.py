"""Pictures of retrieval on a split: the rank histograms of both directions, a similarity
heatmap of a sample of tracks and the map of their audio and caption embeddings.

Each is drawn from the ranks and embeddings the metrics were computed from
(`RetrievalDetails`), so a picture cannot disagree with the numbers beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.patches import Rectangle

from muscall.evaluate.retrieval import RetrievalDetails
from muscall.plots.embedding_map import MAP_POINTS, paired_map, sample_rows
from muscall.plots.figures import attempt, new_figure, publish, save

# The first tracks of the split in the heatmap: enough to see the diagonal, few enough to read.
HEATMAP_TRACKS = 32
DIRECTIONS = {"text_to_audio": "text → audio", "audio_to_text": "audio → text"}
# Up to this rank one bar per rank; beyond, log-spaced bins.
RANK_BARS = 50


def draw_retrieval(details: RetrievalDetails, folder: Path, split: str) -> list[Path]:
    """Every retrieval picture of `split` into `folder`; returns the PNGs written."""
    ranks = {direction: r.numpy() for direction, r in details.ranks.ranks.items()}
    return publish(
        [
            attempt(
                "rank histograms",
                rank_histograms,
                ranks,
                folder / f"retrieval_ranks_{split}.png",
                title=f"rank of the first relevant item, {split} split",
            ),
            attempt("similarity heatmap", _heatmap, details, folder / f"similarity_{split}.png"),
            attempt("embedding map", _map, details, folder / f"embedding_map_{split}.png", split),
        ]
    )


def rank_histograms(ranks: Mapping[str, np.ndarray], out_path: Path, title: str = "") -> Path:
    """One histogram of 1-based ranks per direction, with its median, mean and R@1/R@10."""
    fig = new_figure(5.2 * len(ranks), 3.8)
    axes = fig.subplots(1, len(ranks), squeeze=False)[0]
    for ax, (direction, values) in zip(axes, ranks.items(), strict=True):
        values = np.asarray(values, dtype=np.float64)
        top = int(values.max())
        if top <= RANK_BARS:
            ax.hist(values, bins=np.arange(0.5, top + 1.5), color="C0")
        else:
            ax.hist(values, bins=np.geomspace(0.5, top + 0.5, 40), color="C0")
            ax.set_xscale("log")
        ax.axvline(np.median(values), color="C3", label=f"median {np.median(values):.1f}")
        ax.axvline(values.mean(), color="C2", ls="--", label=f"mean {values.mean():.1f}")
        recall = ", ".join(f"R@{k} {100 * np.mean(values <= k):.1f}%" for k in (1, 10))
        ax.set_title(f"{DIRECTIONS.get(direction, direction)}: {recall}", fontsize=10)
        ax.set_xlabel(f"rank ({len(values)} queries)")
        ax.set_ylabel("queries")
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    return save(fig, out_path)


def similarity_heatmap(
    audio_emb: np.ndarray,
    text_emb: np.ndarray,
    out_path: Path,
    captions: Sequence[str] | None = None,
    title: str = "",
) -> Path:
    """Cosine similarity of audio i (rows) and text j (columns); pair i is cell (i, i)."""
    similarity = np.asarray(audio_emb) @ np.asarray(text_emb).T  # (k, k)
    count = len(similarity)
    fig = new_figure(7.5, 6.5)
    ax = fig.subplots()
    image = ax.imshow(similarity, cmap="viridis", interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.8, label="cosine similarity")
    # Outlined so the matching pairs show even where the model does not pick them out.
    for cell in range(count):
        ax.add_patch(Rectangle((cell - 0.5, cell - 0.5), 1, 1, fill=False, ec="white", lw=0.8))
    cells = np.arange(count)
    ax.set_ylabel("audio of track")
    ax.set_yticks(cells)
    ax.set_yticklabels([str(i) for i in cells], fontsize=6)
    ax.set_xticks(cells)
    names = captions or [str(i) for i in cells]
    ax.set_xticklabels([_shorten(name) for name in names], fontsize=6, rotation=90)
    ax.set_xlabel("a caption of track")
    ax.set_title(title or "audio × text similarity", fontsize=10)
    return save(fig, out_path)


def first_captions(details: RetrievalDetails) -> tuple[np.ndarray, np.ndarray]:
    """Captioned tracks (audio_emb rows) and the text_emb row of each one's first caption."""
    tracks, first = np.unique(details.text_to_audio.numpy(), return_index=True)
    return tracks, first


def _heatmap(details: RetrievalDetails, out_path: Path) -> Path:
    tracks, first = (rows[:HEATMAP_TRACKS] for rows in first_captions(details))
    return similarity_heatmap(
        details.audio_emb.numpy()[tracks],
        details.text_emb.numpy()[first],
        out_path,
        [details.captions[row] for row in first],
        title=f"audio × text similarity, first {len(tracks)} tracks",
    )


def _map(details: RetrievalDetails, out_path: Path, split: str) -> Path:
    tracks, first = first_captions(details)
    keep = sample_rows(len(tracks), MAP_POINTS // 2)
    return paired_map(
        details.audio_emb.numpy()[tracks[keep]],
        details.text_emb.numpy()[first[keep]],
        out_path,
        title=f"audio and caption embeddings, {split} split ({len(keep)} tracks)",
    )


def _shorten(text: str, length: int = 40) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
