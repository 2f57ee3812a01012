"""dataset=mtt: MagnaTagATune as downloaded -> top-50 tagging sets and tag-caption splits.

Two split protocols, which give different numbers: Won et al. 2020's (`dataset.split_dir`
with train/valid/test.npy; the one most papers report) and, without it, the older folder
split (0-b train, c valid, d-f test). Both are recorded as `split_protocol`.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig

from muscall.data.captions import SPLITS, split_path
from muscall.data.json_io import write_json
from muscall.errors import DatasetError
from muscall.prepare.convert import AudioJob, Decoder
from muscall.prepare.mtt_annotations import (
    ANNOTATIONS,
    WON_TAGS,
    Clip,
    read_annotations,
    read_won_split,
    top_tags,
)
from muscall.prepare.writers import write_labelled_set, write_split

log = logging.getLogger(__name__)

FOLDER_SPLITS = {"train": "0123456789ab", "val": "c", "test": "def"}
# MTT tags are genres, instruments, voices and moods ("slow", "female vocal", "no vocals"):
# these read as plain English with any of them in the slot.
TEMPLATES = ("a {} track", "{} music", "this music is {}", "a song tagged {}")


@dataclass(frozen=True)
class SplitPlan:
    """Which split each clip is in, by which protocol; Won's tag list when it has one."""

    split_of: dict[str, str]  # clip_id -> split
    protocol: str
    won_tags: list[str] | None = None
    not_annotated: list[str] | None = None  # split-file paths that no annotation row has


def prepare(source: Path, options: DictConfig, decoder: Decoder) -> dict:
    """Decode the clips of every split and write zeroshot/{split}.json and mtt_{split}.json."""
    target = decoder.target
    tag_names, clips = read_annotations(source)
    plan = _plan_splits(source, clips, options)
    tags = _choose_tags(tag_names, clips, options, plan.won_tags)
    chosen, dropped = _tagged_clips(clips, plan.split_of, tags)
    jobs, missing = _audio_jobs(clip for split in SPLITS for clip, _ in chosen[split])
    done = decoder(jobs)
    counts, ok = {}, done.ok
    for split in SPLITS:
        usable = [(clip, labels) for clip, labels in chosen[split] if clip.clip_id in ok]
        counts[split] = _write_split(target, split, tags, usable, plan.protocol)
    report = {
        "split_protocol": plan.protocol,
        "splits": counts,
        "converted": done.converted,
        "reused": done.reused,
        "failed": done.failed,
        "missing": missing,
        "tags": tags,
        "dropped_no_tag": dict(dropped),
        "not_in_split": sum(clip.clip_id not in plan.split_of for clip in clips),
        "caption_files": [split_path(target, "mtt", split).name for split in SPLITS],
    }
    if plan.not_annotated is not None:
        report["not_annotated"] = plan.not_annotated
    return report


def _plan_splits(source: Path, clips: list[Clip], options: DictConfig) -> SplitPlan:
    """Won et al.'s split when `dataset.split_dir` is given, else the folder split."""
    if not options.split_dir:
        by_folder = {
            folder: split for split, folders in FOLDER_SPLITS.items() for folder in folders
        }
        split_of = {c.clip_id: by_folder[c.folder] for c in clips if c.folder in by_folder}
        return SplitPlan(split_of, "folders")
    split_dir = Path(options.split_dir).expanduser().resolve()
    listed, won_tags = read_won_split(split_dir, source, options.allow_pickle)
    by_path = {clip.path: clip.clip_id for clip in clips}
    split_of, not_annotated = {}, []
    for split, paths in listed.items():
        for path in paths:
            clip_id = by_path.get(path)
            if clip_id is None:
                not_annotated.append(path)
            elif split_of.setdefault(clip_id, split) != split:
                raise DatasetError(
                    f"{split_dir}: {path} is listed in both the {split_of[clip_id]} and "
                    f"{split} split files; a clip belongs to one split"
                )
    if not split_of:
        raise DatasetError(
            f"dataset.split_dir={split_dir}: no path in its split files matches the mp3_path "
            f"column of {ANNOTATIONS}; is it MagnaTagATune's split?"
        )
    if not_annotated:
        log.warning("%d split-file paths are not in %s", len(not_annotated), ANNOTATIONS)
    return SplitPlan(split_of, "won2020", won_tags, not_annotated)


def _choose_tags(
    tag_names: list[str], clips: list[Clip], options: DictConfig, won_tags: list[str] | None
) -> list[str]:
    """tags.npy's list when the split has one, else the most frequent `num_tags` tags."""
    if won_tags is None:
        return top_tags(tag_names, clips, options.num_tags)
    unknown = sorted(set(won_tags) - set(tag_names))
    if unknown or len(set(won_tags)) != len(won_tags):
        raise DatasetError(
            f"{WON_TAGS}: its tags must be distinct columns of {ANNOTATIONS}; "
            f"not columns: {', '.join(unknown) or 'none'}"
        )
    if len(won_tags) != options.num_tags:
        log.warning("%s lists %d tags; it wins over dataset.num_tags", WON_TAGS, len(won_tags))
    return list(won_tags)


def _tagged_clips(
    clips: list[Clip], split_of: dict[str, str], tags: list[str]
) -> tuple[dict[str, list[tuple[Clip, list[str]]]], Counter]:
    """Each split's clips with their chosen tags (in `tags` order); untagged ones counted."""
    chosen = {split: [] for split in SPLITS}
    dropped = Counter({split: 0 for split in SPLITS})
    for clip in clips:
        split = split_of.get(clip.clip_id)
        if split is None:
            continue
        labels = [tag for tag in tags if tag in clip.tags]
        if labels:
            chosen[split].append((clip, labels))
        else:
            dropped[split] += 1  # nothing to score: no chosen tag applies to this clip
    return chosen, dropped


def _audio_jobs(clips: Iterable[Clip]) -> tuple[list[AudioJob], list[str]]:
    """Conversion jobs for the clips whose mp3 is there; the ids of those whose is not."""
    jobs, missing = [], []
    for clip in clips:
        if clip.file.is_file():
            jobs.append(AudioJob(clip.clip_id, clip.file, clip.dest))
        else:
            log.warning("clip %s: %s not found", clip.clip_id, clip.file)
            missing.append(clip.clip_id)
    return jobs, missing


def _write_split(
    target: Path, split: str, tags: list[str], chosen: list[tuple[Clip, list[str]]], protocol: str
) -> int:
    """The split's labelled set and its caption file (the clip's tags, comma-joined)."""
    items = [{"audio_path": clip.dest, "labels": labels} for clip, labels in chosen]
    path = write_labelled_set(target, split, "tagging", tags, items, TEMPLATES)
    # write_labelled_set has no slot for extra keys; the protocol goes in by a second write.
    write_json(path, {**json.loads(path.read_text(encoding="utf-8")), "split_protocol": protocol})
    captions = [
        {"audio_id": clip.clip_id, "caption": ", ".join(labels), "audio_path": clip.dest}
        for clip, labels in chosen
    ]
    write_split(target, "mtt", split, captions)
    return len(items)
