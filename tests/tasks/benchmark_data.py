"""Small copies of the four benchmark datasets, as task=prepare lays them out.

Tones stand in for music (each class or caption word its own pitch, plus a little noise),
written as 16 kHz FLAC by soundfile like the decoder's output; the split and set files and
prepare_report.json are written by task=prepare's own writers, and the CSVs a user
downloads (MusicCaps, Song Describer) sit in the source folder the report names.

GTZAN holds the first `GTZAN_ITEMS` tracks of the fault-filtered test list, one of them a
corrupt file: fewer than the protocol's 290, so its row is not comparable.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import soundfile as sf

from muscall.prepare import gtzan, mtt
from muscall.prepare.writers import write_labelled_set, write_report, write_split

RATE = 16000
GTZAN_ITEMS = 40
MTT_TAGS = ("guitar", "piano", "drums", "vocal", "slow", "fast")
WORDS = ("low", "warm", "bright", "dark", "soft", "sharp", "round", "airy", "deep", "thin")


def _tone(path: Path, pitch: int, seconds: float, seed: int) -> None:
    t = np.arange(int(seconds * RATE)) / RATE
    noise = np.random.default_rng(seed).normal(0, 0.02, t.shape)
    wave = 0.3 * np.sin(2 * np.pi * 110.0 * 2 ** (pitch / 4) * t) + noise
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, wave.astype(np.float32), RATE, format="FLAC")


def write_gtzan(data_dir: Path) -> Path:
    target = data_dir / "gtzan"
    names = list(gtzan.split_lists("filtered")["test"])[:GTZAN_ITEMS]
    items = []
    for number, track in enumerate(names):
        dest = f"audio/genres_original/{gtzan.genre_of(track)}/{track}.flac"
        _tone(target / dest, gtzan.GENRES.index(gtzan.genre_of(track)), 1.2, number)
        items.append({"audio_id": track, "audio_path": dest, "label": gtzan.label_of(track)})
    (target / items[3]["audio_path"]).write_bytes(b"not audio")  # unreadable at evaluation
    write_labelled_set(target, "test", "classification", gtzan.LABELS, items, gtzan.TEMPLATES)
    write_report(target, {"dataset": "gtzan", "split": "filtered", "splits": {"test": 40}})
    return target


def write_mtt(data_dir: Path, clips: int = 36) -> Path:
    target = data_dir / "mtt"
    items = []
    for clip in range(clips):
        tags = [MTT_TAGS[clip % 6], MTT_TAGS[(clip * 5 + 1) % 6]]
        dest = f"audio/{clip % 16:x}/clip-{clip:03d}.flac"
        _tone(target / dest, clip % 6, 1.0, clip)
        items.append({"audio_path": dest, "labels": sorted(set(tags))})
    path = write_labelled_set(target, "test", "tagging", MTT_TAGS, items, mtt.TEMPLATES)
    text = path.read_text().rstrip()[:-1] + ', "split_protocol": "won2020"}'
    path.write_text(text)
    write_report(target, {"dataset": "mtt", "split_protocol": "won2020", "missing": []})
    return target


def write_musiccaps(data_dir: Path, source: Path, clips: int = 30) -> Path:
    target = data_dir / "musiccaps"
    source.mkdir(parents=True, exist_ok=True)
    rows, entries = [], []
    for clip in range(clips + 5):  # the last 5: AudioSet-train clips, not evaluated
        ytid = f"yt{clip:09d}"
        word = WORDS[clip % len(WORDS)]
        is_eval = clip < clips
        rows.append([ytid, 30, 40, f"['{word}']", f"a {word} tone", str(is_eval)])
        if is_eval:
            _tone(target / f"audio/{ytid}.flac", clip % len(WORDS), 1.0, clip)
            entries.append(
                {"audio_id": ytid, "caption": f"a {word} tone", "audio_path": f"audio/{ytid}.flac"}
            )
    _write_csv(
        source / "musiccaps-public.csv",
        ["ytid", "start_s", "end_s", "aspect_list", "caption", "is_audioset_eval"],
        rows,
    )
    write_split(target, "musiccaps", "test", entries)
    write_report(target, {"dataset": "musiccaps", "source": str(source), "missing": []})
    return target


def write_song_describer(data_dir: Path, source: Path, tracks: int = 16) -> Path:
    target = data_dir / "song_describer"
    source.mkdir(parents=True, exist_ok=True)
    rows, entries = [], []
    for track in range(tracks):
        word = WORDS[track % len(WORDS)]
        captions = [f"a {word} tone", f"{word} and calm"][: 1 + track % 2]
        for number, caption in enumerate(captions):
            rows.append(
                [f"{track}-{number}", str(1000 + track), caption, "True", f"{track:02d}/x.mp3"]
            )
        dest = f"audio/{1000 + track}.flac"
        _tone(target / dest, track % len(WORDS), 2.5, track)
        caption = captions[0] if len(captions) == 1 else captions
        entries.append({"audio_id": str(1000 + track), "caption": caption, "audio_path": dest})
    _write_csv(
        source / "song_describer.csv",
        ["caption_id", "track_id", "caption", "is_valid_subset", "path"],
        rows,
    )
    write_split(target, "song_describer", "test", entries)
    write_report(target, {"dataset": "song_describer", "source": str(source), "missing": []})
    return target


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)


def write_benchmark_data(data_dir: Path, sources: Path) -> Path:
    write_gtzan(data_dir)
    write_mtt(data_dir)
    write_musiccaps(data_dir, sources / "musiccaps")
    write_song_describer(data_dir, sources / "song_describer")
    return data_dir
