"""Audio files made by the encoders users' files come from, built at test time, never committed.

ffmpeg, lame, oggenc (vorbis-tools), opusenc (opus-tools) and flac from the distribution;
`tests/fixtures_tools.sh` installs the missing ones. A fixture whose tool is missing skips
its test with a message naming the Debian package.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGES = {
    "ffmpeg": "ffmpeg",
    "lame": "lame",
    "oggenc": "vorbis-tools",
    "opusenc": "opus-tools",
    "flac": "flac",
}
SECONDS = 4.0
# Tonal and changing (a glide over two steady partials): a misplaced span shows at once, and
# no codec fills it with noise substitution, which decodes differently after every seek.
SIGNAL = "0.3*sin(2*PI*(200+40*t)*t)+0.2*sin(2*PI*661*t)+0.1*sin(2*PI*1500*t)"


@dataclass(frozen=True)
class Recipe:
    """How a fixture is made: a source WAV (rate, channels, seconds), then an encoder's command."""

    tool: str
    command: tuple[str, ...]  # {src} and {out} are filled in
    rate: int = 44100
    channels: int = 2
    seconds: float = SECONDS


def _ff(*args: str) -> tuple[str, ...]:
    return ("ffmpeg", "-v", "error", "-y", "-i", "{src}", *args, "{out}")


# name -> recipe; every file decodes to SECONDS of the source unless its name says otherwise.
GOOD = {
    "cbr.mp3": Recipe("lame", ("lame", "--quiet", "-b", "128", "{src}", "{out}")),
    "cbr_noxing.mp3": Recipe("lame", ("lame", "--quiet", "-t", "-b", "128", "{src}", "{out}")),
    "vbr.mp3": Recipe("lame", ("lame", "--quiet", "-V", "2", "{src}", "{out}")),
    "vbr_noxing.mp3": Recipe("lame", ("lame", "--quiet", "-t", "-V", "2", "{src}", "{out}")),
    "id3_cover.mp3": Recipe(
        "lame",
        ("lame", "--quiet", "-V", "4", "--tt", "Title", "--ti", "{cover}", "{src}", "{out}"),
    ),
    "mono_8k.mp3": Recipe("lame", ("lame", "--quiet", "-b", "32", "{src}", "{out}"), 8000, 1),
    "mono_22k.mp3": Recipe("lame", ("lame", "--quiet", "-V", "5", "{src}", "{out}"), 22050, 1),
    "vorbis.ogg": Recipe("oggenc", ("oggenc", "-Q", "{src}", "-o", "{out}")),
    "opus.opus": Recipe("opusenc", ("opusenc", "--quiet", "{src}", "{out}"), 48000),
    "aac.m4a": Recipe("ffmpeg", _ff("-c:a", "aac", "-b:a", "128k")),
    "alac.m4a": Recipe("ffmpeg", _ff("-c:a", "alac")),
    "opus.webm": Recipe("ffmpeg", _ff("-c:a", "libopus", "-b:a", "96k"), 48000),
    "surround_51.m4a": Recipe("ffmpeg", _ff("-c:a", "aac", "-b:a", "256k"), 48000, 6),
    "wma.wma": Recipe("ffmpeg", _ff("-c:a", "wmav2")),
    "wavpack.wv": Recipe("ffmpeg", _ff("-c:a", "wavpack")),
    "pcm24.aiff": Recipe("ffmpeg", _ff("-c:a", "pcm_s24be")),
    "hires_96k.flac": Recipe("flac", ("flac", "-s", "-f", "{src}", "-o", "{out}"), 96000),
    "surround_51.flac": Recipe("flac", ("flac", "-s", "-f", "{src}", "-o", "{out}"), 48000, 6),
    "one_second.ogg": Recipe("oggenc", ("oggenc", "-Q", "{src}", "-o", "{out}"), seconds=1.0),
    "one_second.mp3": Recipe("lame", ("lame", "--quiet", "-V", "2", "{src}", "{out}"), seconds=1.0),
}
LONG = {  # made only by the slow tests
    "long_30min.m4a": Recipe("ffmpeg", _ff("-c:a", "aac", "-b:a", "48k"), 22050, 1, seconds=1800.0),
}


def need(tool: str) -> None:
    """Skip the calling test unless `tool` is on the PATH, naming the package that has it."""
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not found: apt-get install {PACKAGES[tool]} (tests/fixtures_tools.sh)")


class Encoded:
    """Builds fixtures on first use in one folder; `path(name)` skips if its tool is missing."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        out = self.folder / name
        if out.exists():
            return out
        recipe = GOOD.get(name) or LONG[name]
        need("ffmpeg")
        need(recipe.tool)
        src = self.source(recipe.rate, recipe.channels, recipe.seconds)
        filled = [
            part.format(src=src, out=out, cover=self.cover()) if "{" in part else part
            for part in recipe.command
        ]
        subprocess.run(filled, check=True, capture_output=True)
        return out

    def source(self, rate: int, channels: int, seconds: float) -> Path:
        """The signal as 16-bit WAV, made by ffmpeg."""
        out = self.folder / f"source-{rate}-{channels}-{seconds:g}.wav"
        if not out.exists():
            need("ffmpeg")
            graph = f"aevalsrc={SIGNAL}:s={rate}:d={seconds:g}"
            _run(
                "ffmpeg", "-f", "lavfi", "-i", graph, "-ac", str(channels), "-c:a", "pcm_s16le", out
            )
        return out

    def cover(self) -> Path:
        """A small JPEG, the cover art an ID3v2 tag carries."""
        out = self.folder / "cover.jpg"
        if not out.exists():
            _run("ffmpeg", "-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", out)
        return out

    def cut_in_half(self, name: str) -> Path:
        """`name` with its second half gone, as a download that stopped would leave it."""
        data = self.path(name).read_bytes()
        out = self.folder / f"cut-{name}"
        out.write_bytes(data[: len(data) // 2])
        return out


def _run(*args) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *map(str, args[1:])], check=True)
