"""Retrieval examples in wandb: for a few captions, the top tracks with their scores and audio.

Logged only when a wandb run is active (training with logger=wandb); drawn from the same
embeddings as the metrics (`RetrievalDetails`), one table per evaluated split. The table with
audio players goes into an artifact (`retrieval_examples_<split>`): wandb keeps media cells
only in artifact tables; the run's own page gets the same table with track names.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from muscall.evaluate.retrieval import RetrievalDetails
from muscall.plots.figures import attempt

EXAMPLE_QUERIES = 8
TOP_K = 5
# Seconds of each track the table's players hold.
PLAYER_SECONDS = 10.0


def log_retrieval_examples(
    details: RetrievalDetails, audio_paths: Sequence[Path], split: str, sample_rate: int
) -> None:
    """A wandb table of the first captions' top-5 tracks, if a wandb run is active."""
    wandb = sys.modules.get("wandb")
    run = getattr(wandb, "run", None)
    if run is not None:
        attempt(
            "wandb retrieval examples", _log, wandb, run, details, audio_paths, split, sample_rate
        )


def example_rows(details: RetrievalDetails, k: int = TOP_K, queries: int = EXAMPLE_QUERIES):
    """(caption, its track's row, [(track row, score)] best first) for the first captions."""
    # One caption per track: the first caption of each of the first `queries` tracks.
    first = {}
    for caption_row, track in enumerate(details.text_to_audio.tolist()):
        first.setdefault(track, caption_row)
    rows = []
    for track, caption_row in list(first.items())[:queries]:
        scores = details.audio_emb @ details.text_emb[caption_row]  # (N,)
        top = torch.topk(scores, min(k, len(scores)))
        hits = list(zip(top.indices.tolist(), top.values.tolist(), strict=True))
        rows.append((details.captions[caption_row], track, hits))
    return rows


def _log(wandb, run, details, audio_paths, split, sample_rate) -> None:
    from muscall.audio.reading import read_clip

    players = {}

    def player(row: int):
        if row not in players:
            wave = read_clip(audio_paths[row], sample_rate, PLAYER_SECONDS, mode="centre")
            players[row] = wandb.Audio(
                wave, sample_rate=sample_rate, caption=Path(audio_paths[row]).name
            )
        return players[row]

    columns = [
        "caption",
        "its track",
        *[f"{name}{i}" for i in range(1, TOP_K + 1) for name in ("track", "score")],
    ]
    table = wandb.Table(columns=columns)
    for caption, track, hits in example_rows(details):
        cells = [caption, Path(audio_paths[track]).name]
        for row, score in hits:
            cells += [player(row), round(float(score), 4)]
        cells += [None] * (len(columns) - len(cells))
        table.add_data(*cells)
    run.log({f"examples/retrieval_{split}": table})
