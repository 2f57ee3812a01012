"""Decoding throughput per format, one worker, ours beside soundfile, written as JSON.

    python bench/decoding.py [--seconds 180] [--reps 4] [--out bench/results/decoding-cpu.json]

One stereo 44.1 kHz track (a glide over two partials, with a little noise) encoded by the
tools users' files come from (ffmpeg, lame, oggenc, opusenc, flac), read as training and
preparation read it: a random 30 s crop at 16 kHz mono (muscall.audio.reading.read_clip)
and the whole track. Where libsndfile also decodes the format, soundfile's read of the same
span (+ the same downmix and resampling) is timed beside ours, the two alternating in one
process. Last, a 30-minute m4a embedded window by window: decode time and peak memory
(tracemalloc, numpy's arrays included) against decoding the whole track at once.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from muscall.audio.downmix import downmix  # noqa: E402
from muscall.audio.reading import iter_windows, read_clip  # noqa: E402
from muscall.audio.wave_ops import to_rate  # noqa: E402

RATE, CROP = 16000, 30.0
SIGNAL = "0.3*sin(2*PI*(200+2*t)*t)+0.2*sin(2*PI*661*t)+0.02*(random(0)-0.5)"
FORMATS = {  # name -> encoder command ({src}, {out})
    "wav": ("ffmpeg", "-v", "error", "-y", "-i", "{src}", "-c:a", "pcm_s16le", "{out}"),
    "flac": ("flac", "-s", "-f", "{src}", "-o", "{out}"),
    "mp3": ("lame", "--quiet", "-b", "192", "{src}", "{out}"),
    "ogg": ("oggenc", "-Q", "{src}", "-o", "{out}"),
    "opus": ("opusenc", "--quiet", "{src}", "{out}"),
    "m4a": ("ffmpeg", "-v", "error", "-y", "-i", "{src}", "-c:a", "aac", "-b:a", "192k", "{out}"),
    "alac.m4a": ("ffmpeg", "-v", "error", "-y", "-i", "{src}", "-c:a", "alac", "{out}"),
    "webm": ("ffmpeg", "-v", "error", "-y", "-i", "{src}", "-c:a", "libopus", "{out}"),
}


def encode(folder: Path, seconds: float) -> dict[str, Path]:
    src = folder / "source.wav"
    graph = f"aevalsrc={SIGNAL}:s=44100:d={seconds:g}"
    _ffmpeg("-f", "lavfi", "-i", graph, "-ac", "2", "-c:a", "pcm_s16le", src)
    files = {}
    for name, command in FORMATS.items():
        if shutil.which(command[0]) is None:
            print(f"skipping {name}: {command[0]} not installed", file=sys.stderr)
            continue
        out = folder / f"track.{name}"
        subprocess.run([p.format(src=src, out=out) for p in command], check=True)
        files[name] = out
    return files


def ours_crop(path: Path, rng: np.random.Generator) -> np.ndarray:
    return read_clip(path, RATE, CROP, "random", rng)


def soundfile_crop(path: Path, rng: np.random.Generator) -> np.ndarray:
    with sf.SoundFile(str(path)) as f:
        length = int(CROP * f.samplerate)
        f.seek(int(rng.integers(0, max(1, f.frames - length))))
        frames = f.read(length, dtype="float32", always_2d=True)
        return to_rate(downmix(frames), f.samplerate, RATE, path)


def ours_whole(path: Path, _rng) -> np.ndarray:
    return read_clip(path, RATE, None, "none")


def soundfile_whole(path: Path, _rng) -> np.ndarray:
    frames, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return to_rate(downmix(frames), rate, RATE, path)


def soundfile_reads(path: Path) -> bool:
    try:
        with sf.SoundFile(str(path)) as f:
            f.seek(f.frames // 2)
            return f.read(1024).shape[0] > 0
    except Exception:  # noqa: BLE001 - libsndfile refuses in several ways
        return False


def time_alternating(readers: dict, path: Path, reps: int) -> dict[str, float]:
    """Items per second of each reader, the readers taking turns rep by rep."""
    spent = dict.fromkeys(readers, 0.0)
    for rep in range(reps + 1):  # rep 0 warms caches and is not counted
        for name, reader in readers.items():
            rng = np.random.default_rng(rep)
            start = time.perf_counter()
            reader(path, rng)
            if rep:
                spent[name] += time.perf_counter() - start
    return {name: round(reps / seconds, 2) for name, seconds in spent.items()}


def long_track(folder: Path, minutes: float) -> dict:
    """A long m4a embedded as the API embeds it, window by window, against a whole decode."""
    path = folder / "long.m4a"
    graph = f"aevalsrc={SIGNAL}:s=44100:d={minutes * 60:g}"
    _ffmpeg("-f", "lavfi", "-i", graph, "-ac", "2", "-c:a", "aac", "-b:a", "128k", path)
    result = {"file": f"{minutes:g} min stereo 44.1 kHz AAC 128 kb/s m4a", "window_s": 10.0}
    for name, run in (("windows", _windows), ("whole_decode", _whole)):
        tracemalloc.start()
        start = time.perf_counter()
        count = run(path)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        result[name] = {"seconds": round(seconds, 2), "peak_mb": round(peak / 2**20, 1)}
        result[name]["windows" if name == "windows" else "samples"] = count
    return result


def _windows(path: Path) -> int:
    return sum(1 for _ in iter_windows(path, RATE, 10.0))


def _whole(path: Path) -> int:
    return len(read_clip(path, RATE, None, "none"))


def _ffmpeg(*args) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *map(str, args)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="length of the track")
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--long-minutes", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/decoding-cpu.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)  # one DataLoader worker's view
    load_before = os.getloadavg()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = encode(Path(tmp), args.seconds)
        for name, path in files.items():
            row = {"bytes": path.stat().st_size}
            both = soundfile_reads(path)
            for what, ours, theirs in (
                ("crop_30s_per_s", ours_crop, soundfile_crop),
                ("whole_track_per_s", ours_whole, soundfile_whole),
            ):
                readers = {"ours": ours, **({"soundfile": theirs} if both else {})}
                row[what] = time_alternating(readers, path, args.reps)
            results[name] = row
            print(name, row, flush=True)
        long = long_track(Path(tmp), args.long_minutes)
        print(long, flush=True)
    report = {
        "what": "clips/s per worker (1 process, 1 torch thread); 16 kHz mono out",
        "track": f"{args.seconds:g} s stereo 44.1 kHz, encoded by ffmpeg/lame/oggenc/opusenc/flac",
        "crop_seconds": CROP,
        "reps": args.reps,
        "machine": {
            "node": platform.node(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "note": "2-core VM shared with other agents (loaded)",
        },
        "formats": results,
        "long_track": long,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
