"""Which files are audio: the suffixes every task discovers, and the reader a file's bytes ask for.

The suffix only finds candidates; the reader is chosen by content (a `.flac` that holds mp3
is read as mp3), so a playable file is never refused for its name.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

# Read by libsndfile (soundfile): exact lengths from the header, fast seeks.
SOUNDFILE_SUFFIXES = (".wav", ".wave", ".flac", ".aiff", ".aif", ".aifc", ".w64", ".rf64")
# Read by FFmpeg through PyAV; each needs the demuxer named beside it in PyAV's FFmpeg.
AV_SUFFIXES = {
    ".mp3": "mp3",
    ".mp2": "mp3",
    ".ogg": "ogg",
    ".oga": "ogg",
    ".opus": "ogg",
    ".m4a": "mov,mp4,m4a,3gp,3g2,mj2",
    ".m4b": "mov,mp4,m4a,3gp,3g2,mj2",
    ".mp4": "mov,mp4,m4a,3gp,3g2,mj2",
    ".aac": "aac",
    ".webm": "matroska,webm",
    ".mka": "matroska,webm",
    ".wma": "asf",
    ".asf": "asf",
    ".ape": "ape",
    ".wv": "wv",
    ".ac3": "ac3",
    ".mpc": "mpc8",
    ".tta": "tta",
    ".caf": "caf",
    ".au": "au",
    ".snd": "au",
    ".dsf": "dsf",
    ".spx": "ogg",
}
NPY_SUFFIX = ".npy"


@cache
def audio_suffixes() -> frozenset[str]:
    """Every suffix (lower case, with the dot) the reading layer reads, `.npy` included."""
    import av

    formats = set()
    for name in av.formats_available:
        formats.update(name.split(","))
    readable = {s for s, demuxer in AV_SUFFIXES.items() if demuxer.split(",")[0] in formats}
    return frozenset({*SOUNDFILE_SUFFIXES, *readable, NPY_SUFFIX})


def is_audio_file(path: str | Path) -> bool:
    """True when the name's suffix (any case) is one the reading layer reads."""
    return Path(path).suffix.lower() in audio_suffixes()


def reader_for(head: bytes) -> str:
    """ "npy", "soundfile" or "av" for a file that starts with `head` (its first 12 bytes)."""
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"fLaC"):
        return "soundfile"
    if head[:4] in (b"RIFF", b"RIFX", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "soundfile"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "soundfile"
    if head.startswith(b".snd"):  # Sun/NeXT .au, GTZAN's original format
        return "soundfile"
    return "av"
