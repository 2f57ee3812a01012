"""One list of audio suffixes, and every task that finds files finds them by it."""

from __future__ import annotations

import pytest

from muscall.audio.formats import audio_suffixes, is_audio_file, reader_for
from muscall.library.walk import walk_library
from muscall.prepare import musiccaps
from muscall.prepare.folder import count_uncaptioned

# What downloads and music libraries hold beyond what libsndfile reads.
EVERYDAY = (".mp3", ".ogg", ".opus", ".m4a", ".webm", ".flac", ".wav", ".aiff", ".wma", ".wv")


def test_the_suffixes_cover_what_people_keep_music_in():
    assert set(EVERYDAY) | {".npy"} <= audio_suffixes()
    assert all(s.startswith(".") and s == s.lower() for s in audio_suffixes())
    assert is_audio_file("Song.M4A") and not is_audio_file("notes.txt")


@pytest.mark.parametrize(
    "head, reader",
    [
        (b"fLaC\x00\x00\x00\x22", "soundfile"),
        (b"RIFF\x24\x00\x00\x00WAVE", "soundfile"),
        (b"FORM\x00\x00\x00\x00AIFF", "soundfile"),
        (b"\x93NUMPY\x01\x00v\x00{'", "npy"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "av"),
        (b"OggS\x00\x02\x00\x00\x00\x00", "av"),
        (b"\x00\x00\x00\x20ftypM4A ", "av"),
        (b"\x1aE\xdf\xa3\x9fB\x86\x81\x01", "av"),
    ],
)
def test_the_reader_is_chosen_by_the_first_bytes(head, reader):
    assert reader_for(head) == reader


def test_index_prepare_and_musiccaps_discover_the_same_files(tmp_path):
    names = [
        f"abc_def-gh{i}{suffix.upper() if i % 2 else suffix}" for i, suffix in enumerate(EVERYDAY)
    ]
    for name in [*names, "readme.txt", "cover.jpg"]:
        (tmp_path / name).write_bytes(b"x")  # discovery never opens a file
    found = [f.path for f in walk_library(tmp_path).files]
    assert found == sorted(names)
    assert count_uncaptioned(tmp_path, tmp_path / "target", set()) == len(names)
    wanted = {name[:11] for name in names}
    files, _ = musiccaps.find_clip_files(tmp_path, wanted, tmp_path / "target")
    assert sorted(p.name for p in files.values()) == sorted(names)
