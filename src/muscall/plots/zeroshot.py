"""Pictures of zero-shot sets: a confusion matrix (classification) or per-tag ROC-AUC bars
(tagging), and the map of the clips' audio embeddings among their labels' text embeddings.

Drawn from the scores and AUCs the metrics were computed from (`ZeroShotDetails`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from muscall.evaluate.zeroshot import ZeroShotDetails
from muscall.plots.embedding_map import MAP_POINTS, paired_map, sample_rows
from muscall.plots.figures import attempt, file_part, new_figure, publish, save

# Cells annotated with their counts up to this many classes; beyond, colour alone.
ANNOTATED_CLASSES = 20


def draw_zeroshot(sets: Sequence[ZeroShotDetails], folder: Path) -> list[Path]:
    """Every zero-shot picture of every set into `folder`; returns the PNGs written."""
    paths = []
    for details in sets:
        stem = folder / f"zeroshot_{file_part(details.name)}"
        if details.type == "classification":
            path = attempt(
                f"{details.name} confusion matrix", _confusion, details, f"{stem}_confusion.png"
            )
        else:
            path = attempt(f"{details.name} tag AUC", _tag_auc, details, f"{stem}_tag_auc.png")
        paths.append(path)
        paths.append(
            attempt(f"{details.name} embedding map", _map, details, f"{stem}_embedding_map.png")
        )
    return publish(paths)


def confusion_matrix(
    predictions: np.ndarray,
    targets: np.ndarray,
    labels: Sequence[str],
    out_path: Path,
    title: str = "",
) -> Path:
    """True class (rows) against predicted class (columns), each row as shares of its clips."""
    num_classes = len(labels)
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(targets), np.asarray(predictions)), 1)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    side = min(3.5 + 0.4 * num_classes, 18)
    fig = new_figure(side + 1.5, side)
    ax = fig.subplots()
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.8, label="share of the class's clips")
    if num_classes <= ANNOTATED_CLASSES:
        for (row, col), count in np.ndenumerate(counts):
            if count:
                colour = "white" if shares[row, col] > 0.5 else "black"
                ax.text(col, row, str(count), ha="center", va="center", fontsize=7, color=colour)
    fontsize = 8 if num_classes <= ANNOTATED_CLASSES else 5
    ax.set_xticks(range(num_classes))
    ax.set_xticklabels(labels, rotation=90, fontsize=fontsize)
    ax.set_yticks(range(num_classes))
    ax.set_yticklabels(labels, fontsize=fontsize)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = 100 * np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"{title or 'zero-shot classification'}: accuracy {accuracy:.1f}%", fontsize=10)
    return save(fig, out_path)


def tag_auc_bars(aucs: Mapping[str, float], out_path: Path, title: str = "") -> Path:
    """One bar of ROC-AUC per tag, best first, with chance (0.5) and the macro mean."""
    ordered = sorted(aucs.items(), key=lambda item: item[1], reverse=True)
    fig = new_figure(6.5, min(max(3, 1.5 + 0.2 * len(ordered)), 30))
    ax = fig.subplots()
    positions = np.arange(len(ordered))
    ax.barh(positions, [auc for _, auc in ordered], color="C0")
    ax.set_yticks(positions)
    ax.set_yticklabels([tag for tag, _ in ordered], fontsize=7 if len(ordered) <= 60 else 5)
    ax.set_ylim(len(ordered) - 0.5, -0.5)  # best on top, no empty band
    macro = float(np.mean([auc for _, auc in ordered]))
    ax.axvline(0.5, color="grey", ls=":", label="chance")
    ax.axvline(macro, color="C3", ls="--", label=f"macro {macro:.3f}")
    ax.set_xlim(0, 1)
    ax.set_xlabel("ROC-AUC")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title or "zero-shot tagging", fontsize=10)
    return save(fig, out_path)


def _confusion(details: ZeroShotDetails, out_path: str) -> Path:
    predictions = details.scores.argmax(dim=1).numpy()  # as classification_metrics predicts
    return confusion_matrix(
        predictions, details.targets.numpy(), details.labels, Path(out_path), details.name
    )


def _tag_auc(details: ZeroShotDetails, out_path: str) -> Path:
    aucs = {details.labels[tag]: roc for tag, (roc, _) in (details.tag_auc or {}).items()}
    if not aucs:
        raise ValueError("no tag has both positive and negative clips")
    skipped = len(details.labels) - len(aucs)
    title = f"{details.name}: ROC-AUC by tag" + (f" ({skipped} tags unscored)" if skipped else "")
    return tag_auc_bars(aucs, Path(out_path), title)


def _map(details: ZeroShotDetails, out_path: str) -> Path:
    keep = sample_rows(len(details.audio_emb), max(MAP_POINTS - len(details.labels), 1))
    audio_labels = text_labels = None
    if details.type == "classification":
        audio_labels = [details.labels[c] for c in details.targets[keep].tolist()]
        text_labels = list(details.labels)
    return paired_map(
        details.audio_emb.numpy()[keep],
        details.label_emb.numpy(),
        Path(out_path),
        audio_labels,
        text_labels,
        title=f"{details.name}: clips (dots) and label prompts (triangles)",
    )
