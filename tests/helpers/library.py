"""Music libraries of tones on disk, and a real index of one, for the library, serve and page tests."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.audio import write_tone


def write_library(
    root: Path,
    names: list[str],
    seconds: float = 1.0,
    sample_rate: int = 22050,
    longer_by: float = 0.0,
) -> Path:
    """A tone per name, a fourth (5 semitones) apart, so no two tracks sound or embed alike.

    Track i lasts `seconds + i * longer_by`; its format is its name's suffix.
    """
    for i, name in enumerate(names):
        freq = 110.0 * 2 ** (i * 5 / 12)
        write_tone(root / name, seconds + i * longer_by, sample_rate, freq)
    return root


def build_index(music: Path, checkpoint: Path, index_dir: Path) -> Path:
    """A real library index of `music`, as task=index builds it."""
    from muscall.api import load
    from muscall.library.build import update_index

    update_index(load(checkpoint, "cpu"), music, index_dir, workers=0, progress=False)
    return index_dir
