import os

from muscall.library.walk import walk_library
from tests.helpers.audio import write_corrupt, write_tone


def test_walk_finds_nested_audio_sorted_and_lists_symlinks_out(tmp_path):
    root = tmp_path / "music"
    for name in ("b/z.MP3", "a/deep/er/x.flac", "a/y.Ogg", "c.wav"):
        write_corrupt(root / name)  # the walk never opens a file
    write_corrupt(root / ".hidden" / "h.wav")
    write_corrupt(root / "a" / ".dotfile.wav")
    (root / "notes.txt").write_text("x")
    outside = write_tone(tmp_path / "outside" / "o.wav")
    (root / "out.wav").symlink_to(outside)
    (root / "outdir").symlink_to(outside.parent)
    (root / "gone.wav").symlink_to(tmp_path / "missing.wav")
    (root / "inside.wav").symlink_to(root / "c.wav")
    (root / "a" / "loop").symlink_to(root / "a")

    walk = walk_library(root)

    assert [f.path for f in walk.files] == [
        "a/deep/er/x.flac", "a/y.Ogg", "b/z.MP3", "c.wav", "inside.wav",
    ]  # fmt: skip
    reasons = {s.path: s.reason for s in walk.skipped}
    assert reasons["out.wav"] == reasons["outdir"] == "symlink points outside the indexed folder"
    assert reasons["gone.wav"].startswith("broken symlink")
    assert len(reasons) == 3
    assert walk.files[3].size == os.path.getsize(root / "c.wav")


def test_walk_leaves_out_the_index_folder(tmp_path):
    write_corrupt(tmp_path / "a.wav")
    write_corrupt(tmp_path / "index" / "b.wav")
    assert [f.path for f in walk_library(tmp_path, exclude=tmp_path / "index").files] == ["a.wav"]
