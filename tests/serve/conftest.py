"""The search page's API on a fake index of real files: the HTTP layer alone, fast."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from muscall.errors import AudioError, MuscallError
from muscall.serve import app as serve_app
from tests.helpers.audio import write_tone

MAX_UPLOAD_MB = 0.5


@dataclass
class FakeEntry:
    path: str
    duration: float
    size: int
    mtime: float


@dataclass
class FakeHit:
    position: int
    path: str
    score: float


class FakeIndex:
    """LibraryIndex's surface over a folder of tones; `resolve` confines paths like the real one."""

    def __init__(self, root: Path, relatives: list[str]):
        self.root = root.resolve()
        self.model_source = "/models/tiny/last.ckpt"
        self.model_fingerprint = "fake"
        self.entries = [
            FakeEntry(rel, sf.info(root / rel).duration, (root / rel).stat().st_size, 0.0)
            for rel in relatives
        ]

    def __len__(self) -> int:
        return len(self.entries)

    def top_tags(self, position: int) -> list[str]:
        return []  # a model that does not tag (the tag bridge's indexes do)

    def resolve(self, relative: str) -> Path:
        path = (self.root / relative).resolve()
        if relative not in {e.path for e in self.entries} or not path.is_relative_to(self.root):
            raise MuscallError(f"{relative}: not a track of this index")
        return path


def fake_search_text(model, index, query, k=10, backend="exact"):
    """Entries whose name holds a word of the query first, then the rest in order."""
    words = query.lower().split()
    order = sorted(
        range(len(index)), key=lambda i: -sum(w in index.entries[i].path.lower() for w in words)
    )
    return [FakeHit(i, index.entries[i].path, 1.0 - 0.1 * rank) for rank, i in enumerate(order)][:k]


def fake_search_audio(model, index, audio, k=10, sample_rate=None, backend="exact"):
    """The entry with the same bytes as the upload first; garbage raises like the real model."""
    try:
        sf.info(audio)
    except Exception as error:
        raise AudioError(f"{audio}: cannot decode ({error})") from None
    data = Path(audio).read_bytes()
    same = [i for i, e in enumerate(index.entries) if index.resolve(e.path).read_bytes() == data]
    order = same + [i for i in range(len(index)) if i not in same]
    return [FakeHit(i, index.entries[i].path, 0.9 - 0.1 * rank) for rank, i in enumerate(order)][:k]


@pytest.fixture
def library(tmp_path) -> Path:
    """A folder of 5 tones (one named with HTML), a secret beside it, a symlink out of it."""
    root = tmp_path / "music"
    for i, name in enumerate(["low.wav", "mid.flac", "sub/high.wav", "<b>bold</b>.wav", "x.ogg"]):
        write_tone(root / name, seconds=0.5, freq=220.0 * (i + 1))
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    (root / "escape.wav").symlink_to(tmp_path / "secret.txt")
    return root


@pytest.fixture
def index(library) -> FakeIndex:
    return FakeIndex(library, ["low.wav", "mid.flac", "sub/high.wav", "<b>bold</b>.wav", "x.ogg"])


@pytest.fixture
def client(index, monkeypatch) -> TestClient:
    monkeypatch.setattr(serve_app, "search_text", fake_search_text)
    monkeypatch.setattr(serve_app, "search_audio", fake_search_audio)
    return TestClient(
        serve_app.create_app(object(), index, max_upload_mb=MAX_UPLOAD_MB, backend="exact")
    )
