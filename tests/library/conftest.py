"""A small music library on disk (nested, mixed formats, one corrupt file, one symlink out)
and the tiny real model, watched so a test can tell which files it decoded.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from muscall.library.build import update_index
from tests.helpers.audio import write_corrupt, write_tone
from tests.helpers.library import write_library

SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")


def write_nested_library(root: Path, count: int = 20) -> list[str]:
    """`count` tones in nested folders and four formats, beside a corrupt file, a symlink out,
    a hidden folder and a text file; returns the tones' relative paths."""
    paths = [f"artist{i % 3}/album{i % 2}/track{i:02d}{SUFFIXES[i % 4]}" for i in range(count)]
    write_library(root, paths, seconds=1.0, sample_rate=16000, longer_by=0.05)
    write_corrupt(root / "artist0" / "broken.wav")
    outside = write_tone(root.parent / f"{root.name}-outside" / "elsewhere.wav", freq=300.0)
    (root / "artist1" / "linked_out.wav").symlink_to(outside)
    (root / ".hidden").mkdir()
    write_tone(root / ".hidden" / "secret.wav")
    (root / "notes.txt").write_text("not audio")
    return paths


class Watched:
    """The real model, recording the files it is asked to decode; `fingerprint` can be faked."""

    def __init__(self, model, fingerprint: str | None = None, stop_after: int | None = None):
        self.model, self.decoded, self.stop_after = model, [], stop_after
        self.fingerprint = fingerprint or model.fingerprint

    def __getattr__(self, name):
        return getattr(self.model, name)

    def stream_audio(self, paths, num_workers=None, batch_size=16):
        paths = list(paths)
        for count, result in enumerate(self.model.stream_audio(paths, num_workers, batch_size)):
            if self.stop_after is not None and count == self.stop_after:
                raise KeyboardInterrupt
            self.decoded.append(Path(result.path).name)
            yield result


@pytest.fixture(scope="session")
def tiny_model(tiny_checkpoint):
    import muscall

    return muscall.load(tiny_checkpoint, device="cpu")


@pytest.fixture(scope="module")
def indexed_library(tmp_path_factory, tiny_model):
    """A library and its index, built once per module: read only (copy it to change it)."""
    base = tmp_path_factory.mktemp("library")
    root = base / "music"
    paths = write_nested_library(root)
    index, update = update_index(tiny_model, root, base / "index", workers=0, progress=False)
    return {"root": root, "index_dir": base / "index", "paths": paths, "index": index,
            "update": update}  # fmt: skip


def copy_library(indexed_library: dict, target: Path) -> tuple[Path, Path]:
    """A private copy (music, index) to change; the index's root is the copy's."""
    root, index_dir = target / "music", target / "index"
    shutil.copytree(indexed_library["root"], root, symlinks=True)
    shutil.copytree(indexed_library["root"].parent / "music-outside", target / "music-outside")
    return root, index_dir
