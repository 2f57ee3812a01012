"""The wandb table of retrieval examples: the top tracks of the first captions, with audio."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf
import torch
import torch.nn.functional as F
import wandb

from muscall.evaluate.ranking import retrieval_ranks
from muscall.evaluate.retrieval import RetrievalDetails
from muscall.plots.examples import example_rows, log_retrieval_examples


def _details(n=6):
    audio = F.normalize(torch.randn(n, 8, generator=torch.Generator().manual_seed(0)), dim=-1)
    text = F.normalize(audio + 0.1 * torch.randn(n, 8), dim=-1)
    owner = torch.arange(n)
    captions = [f"caption {i}" for i in range(n)]
    return RetrievalDetails(retrieval_ranks(audio, text, owner), audio, text, owner, captions)


def test_rows_rank_tracks_by_the_captions_score():
    details = _details()
    rows = example_rows(details, k=3, queries=4)
    assert [track for _, track, _ in rows] == [0, 1, 2, 3]
    for caption, track, hits in rows:
        scores = (details.audio_emb @ details.text_emb[track]).tolist()
        assert [row for row, _ in hits] == list(np.argsort(scores)[::-1][:3])
        assert caption == f"caption {track}"


def test_the_table_lands_in_the_wandb_run_with_audio(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path / "wandb_data"))  # where artifacts stage
    paths = []
    for i in range(6):
        paths.append(tmp_path / f"track{i}.wav")
        sf.write(paths[-1], 0.1 * np.sin(np.arange(16000) * (i + 1) / 50), 16000)
    run = wandb.init(dir=tmp_path, project="t")
    try:
        log_retrieval_examples(_details(), paths, "test", 16000)
    finally:
        wandb.finish()
    tables = list((tmp_path / "wandb").glob("offline-run-*/files/media/table/examples/*.json"))
    assert len(tables) == 1, run.dir
    table = json.loads(tables[0].read_text())
    assert table["columns"][:4] == ["caption", "its track", "track1", "score1"]
    assert len(table["data"]) == 6
    staged = [p for p in (tmp_path / "wandb_data").rglob("*") if p.is_file()]
    heads = [p.read_bytes()[:4] for p in staged]
    assert 1 <= heads.count(b"RIFF") <= 6  # each track's player written once, as audio
    assert any(b'"audio-file"' in p.read_bytes() for p in staged)  # the artifact's table


def test_no_wandb_run_no_table_and_no_error(tmp_path):
    assert wandb.run is None
    log_retrieval_examples(_details(), [tmp_path / "missing.wav"] * 6, "test", 16000)
