"""MusicCaps: the published CSV and the clips a user fetched from YouTube -> caption splits.

The CSV lists 5,521 ten-second clips of YouTube videos. The audio is fetched by the user and
many videos are gone, so a listed clip without a file is counted as missing, never an error.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import os
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from omegaconf import DictConfig

from muscall.audio.formats import is_audio_file
from muscall.errors import AudioError, DatasetError, MuscallError
from muscall.prepare.convert import AudioJob, ConvertReport, Decoder
from muscall.prepare.tables import read_csv_rows
from muscall.prepare.writers import write_split

log = logging.getLogger(__name__)

CSV_NAME = "musiccaps-public.csv"
COLUMNS = ("ytid", "start_s", "end_s", "aspect_list", "caption", "is_audioset_eval")
YTID = re.compile(r"[A-Za-z0-9_-]{11}")
# A fetched file longer than its clip by more than this is the whole video: the clip is cut out.
WHOLE_VIDEO_SLACK_S = 2.0


@dataclass(frozen=True)
class Clip:
    """One row of the CSV: a ten-second clip of a YouTube video and its texts."""

    ytid: str
    start_s: float
    end_s: float
    caption: str
    aspects: str  # the aspect list as one tag-form caption, "a, b, c"
    is_eval: bool


def prepare(source: Path, options: DictConfig, decoder: Decoder) -> dict:
    """Decode the fetched clips to FLAC and write `<name>_{train,val,test}.json` in `target`."""
    target = decoder.target
    if not 0.0 <= options.val_fraction < 1.0:
        raise MuscallError(f"dataset.val_fraction={options.val_fraction}: must be in [0, 1)")
    ours = target / "audio"  # the decoded clips: never read back as fetched ones
    if source.is_relative_to(ours):
        raise MuscallError(f"source={source} lies in {ours}, where the decoded clips go")
    clips = read_csv(source / CSV_NAME)
    wanted = {clip.ytid for clip in clips}
    files, duplicates = find_clip_files(_audio_root(source, options.audio_dir), wanted, ours)
    found = [clip for clip in clips if clip.ytid in files]
    jobs = [AudioJob(c.ytid, files[c.ytid], f"audio/{c.ytid}.flac") for c in found]
    report = decoder(jobs)
    cut = cut_whole_videos(found, files, target, report)
    written = [clip for clip in found if clip.ytid in report.ok]
    splits = write_splits(target, options, written)
    return {
        "splits": splits,
        "listed": len(clips),
        "converted": report.converted,
        "reused": report.reused,
        "failed": report.failed,
        "missing": [clip.ytid for clip in clips if clip.ytid not in files],
        "cut_from_whole_video": cut,
        "duplicate_files": duplicates,
    }


def read_csv(path: Path) -> list[Clip]:
    """Every row of `musiccaps-public.csv`, checked; a malformed row names its row number."""
    if not path.is_file():
        raise DatasetError(
            f"{path}: not found; source= must be the folder holding {CSV_NAME} "
            "(from Kaggle googleai/musiccaps or Hugging Face google/MusicCaps)"
        )
    rows = read_csv_rows(path, COLUMNS)
    clips, rows_of = [], {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        clip = _clip(row, f"{path.name} row {number}")
        if clip.ytid in rows_of:
            raise DatasetError(
                f"{path.name}: ytid {clip.ytid} in rows {rows_of[clip.ytid]} and {number}"
            )
        rows_of[clip.ytid] = number
        clips.append(clip)
    return clips


def _clip(row: dict, where: str) -> Clip:
    ytid = (row["ytid"] or "").strip()
    # The id becomes a file name: only YouTube's 11 characters, nothing that could make a path.
    if not YTID.fullmatch(ytid):
        raise DatasetError(f"{where}: ytid {ytid!r} is not an 11-character YouTube id")
    try:
        start_s, end_s = float(row["start_s"]), float(row["end_s"])
    except (TypeError, ValueError) as error:
        raise DatasetError(f"{where}: start_s / end_s are not numbers ({error})") from error
    if not 0.0 <= start_s < end_s:
        raise DatasetError(f"{where}: start_s={start_s:g}, end_s={end_s:g} is not a clip")
    return Clip(
        ytid=ytid,
        start_s=start_s,
        end_s=end_s,
        caption=(row["caption"] or "").strip(),
        aspects=_aspects(row["aspect_list"] or "", where),
        is_eval=_flag(row["is_audioset_eval"], f"{where}: is_audioset_eval"),
    )


def _aspects(text: str, where: str) -> str:
    """ "['low quality', 'sad']" -> "low quality, sad"; a literal is parsed, never evaluated."""
    try:
        value = ast.literal_eval(text) if text.strip() else []
    except (ValueError, SyntaxError) as error:
        raise DatasetError(f"{where}: aspect_list is not a list literal ({error})") from error
    if not isinstance(value, list | tuple) or not all(isinstance(a, str) for a in value):
        raise DatasetError(f"{where}: aspect_list is not a list of strings: {text[:60]!r}")
    return ", ".join(a.strip() for a in value if a.strip())


def _flag(value: str | None, where: str) -> bool:
    text = (value or "").strip()
    if text not in ("True", "False"):
        raise DatasetError(f"{where} is {text!r}, expected True or False")
    return text == "True"


def _audio_root(source: Path, audio_dir: str | None) -> Path:
    if audio_dir is None:
        return source
    root = (source / Path(audio_dir).expanduser()).resolve()  # an absolute audio_dir wins
    if not root.is_dir():
        raise MuscallError(f"dataset.audio_dir={audio_dir}: folder not found (resolved: {root})")
    return root


def ytid_of(stem: str) -> str | None:
    """The YouTube id a file is named after: `<ytid>`, `<ytid>_<start>...`, `<ytid>-<start>...`.

    Ids may themselves hold '-' and '_', so the id is the first 11 characters, which must
    end the name or be followed by a separator.
    """
    if len(stem) == 11 or (len(stem) > 11 and stem[11] in "_-"):
        return stem[:11]
    return None


def find_clip_files(
    root: Path, wanted: Collection[str], exclude: Path
) -> tuple[dict[str, Path], dict[str, list[str]]]:
    """{ytid: file} for the wanted ids under `root`, and {ytid: [files not used]} for repeats.

    `exclude` (the decoded clips) is skipped, so a target inside the source never feeds its
    own output back in.
    """
    by_id: dict[str, list[Path]] = {}
    for path in sorted(root.rglob("*")):
        if not is_audio_file(path) or path.is_relative_to(exclude):
            continue
        ytid = ytid_of(path.stem)
        if ytid in wanted and path.is_file():
            by_id.setdefault(ytid, []).append(path)
    files = {ytid: paths[0] for ytid, paths in by_id.items()}
    duplicates = {ytid: [str(p) for p in paths[1:]] for ytid, paths in by_id.items() if paths[1:]}
    for ytid, unused in duplicates.items():
        log.warning("%s: several files; using %s, not %s", ytid, files[ytid], ", ".join(unused))
    return files, duplicates


def cut_whole_videos(
    clips: Sequence[Clip], files: dict[str, Path], target: Path, report: ConvertReport
) -> list[str]:
    """Cut [start_s, end_s] out of every converted file that holds the whole video.

    Checks reused files too, so a run stopped between decoding and cutting is finished by
    the next one. A file that is neither clip nor whole video moves to `report.failed`.
    """
    cut, ok = [], report.ok
    for clip in clips:
        if clip.ytid not in ok:
            continue
        path = target / "audio" / f"{clip.ytid}.flac"
        try:
            if _cut_clip(path, clip, files[clip.ytid]):
                cut.append(clip.ytid)
        except (AudioError, RuntimeError) as error:  # RuntimeError: soundfile cannot read it
            path.unlink(missing_ok=True)
            for done in (report.converted, report.reused):
                if clip.ytid in done:
                    done.remove(clip.ytid)
            report.fail(clip.ytid, files[clip.ytid], str(error))
            log.warning("skipping %s", error)
    return cut


def _cut_clip(path: Path, clip: Clip, fetched: Path) -> bool:
    """Replace a whole-video FLAC by its clip, atomically; False when it is already the clip."""
    info = sf.info(str(path))
    seconds, length = info.frames / info.samplerate, clip.end_s - clip.start_s
    if seconds <= length + WHOLE_VIDEO_SLACK_S:
        return False
    if seconds < clip.end_s - WHOLE_VIDEO_SLACK_S:
        raise AudioError(
            f"{fetched}: {seconds:.1f} s long, longer than the {length:g} s clip but ending "
            f"before its end_s={clip.end_s:g}; fetch the clip or the whole video"
        )
    rate = info.samplerate
    # int16 in and out: the FLAC is already 16-bit at the target rate, so the cut is lossless.
    wave, _ = sf.read(
        str(path), start=round(clip.start_s * rate), stop=round(clip.end_s * rate), dtype="int16"
    )
    if not np.any(wave):
        raise AudioError(f"{fetched}: the clip [{clip.start_s:g}, {clip.end_s:g}] s is silent")
    partial = path.with_name(path.name + ".partial")
    sf.write(partial, wave, rate, format="FLAC", subtype="PCM_16")
    os.replace(partial, path)
    return True


def split_of(clip: Clip, val_fraction: float) -> str:
    """test: the AudioSet eval clips; val: a stable hash of the id picks `val_fraction` of the rest."""
    if clip.is_eval:
        return "test"
    # sha1, not hash(): Python salts str hashes per process, and the split must never move.
    digest = hashlib.sha1(clip.ytid.encode("ascii")).digest()
    return "val" if int.from_bytes(digest[:8], "big") / 2**64 < val_fraction else "train"


def captions_of(clip: Clip, split: str, test_aspects: bool) -> str | list[str]:
    """The caption, plus the aspect list as a second, tag-form caption (test: only if asked)."""
    texts = [clip.caption]
    if split != "test" or test_aspects:
        texts.append(clip.aspects)
    texts = [t for t in texts if t]
    return texts[0] if len(texts) == 1 else texts


def write_splits(target: Path, options: DictConfig, clips: Sequence[Clip]) -> dict[str, int]:
    """Write the three split files; returns the number of tracks in each."""
    entries: dict[str, list[dict]] = {"train": [], "val": [], "test": []}
    for clip in clips:
        split = split_of(clip, options.val_fraction)
        caption = captions_of(clip, split, options.test_aspects_as_captions)
        entries[split].append(
            {"audio_id": clip.ytid, "caption": caption, "audio_path": f"audio/{clip.ytid}.flac"}
        )
    for split, items in entries.items():
        write_split(target, options.name, split, items)
    return {split: len(items) for split, items in entries.items()}
