"""dataset=mtt: MagnaTagATune's real file formats in, top-50 tagging sets and captions out."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from muscall.config import compose_config
from muscall.data.labelled import read_labelled_set
from muscall.errors import MuscallError
from muscall.prepare.mtt import TEMPLATES
from muscall.tasks import zeroshot
from tests.helpers.audio import write_corrupt, write_tone

from .conftest import run_prepare

# The real top 50, most frequent first.
TOP50 = (
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast",
    "piano", "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male",
    "singing", "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman",
    "male vocal", "no vocal", "pop", "soft", "sitar", "solo", "man", "classic", "choir", "voice",
    "new age", "dance", "male voice", "female vocal", "beats", "harp", "cello", "no voice",
    "weird", "country", "metal", "female voice", "choral",
)  # fmt: skip
OTHER = (
    "jazz", "medieval", "no beat", "orchestra", "chant", "orchestral", "low", "baroque", "folk",
    "hard rock", "trance", "rap", "funk", "blues", "reggae", "hip hop", "industrial", "drum",
    "bass", "acoustic", "electric guitar", "dark", "airy", "eastern", "spanish", "irish",
    "celtic", "world", "foreign", "oriental", "heavy", "punk", "soprano", "tenor", "duet",
    "plucking", "singer", "horns", "organ", "saxophone", "trumpet", "clarinet", "lute", "banjo",
    "bongos", "percussion", "noise", "echo", "repetitive", "calm", "happy", "sad", "upbeat",
    "modern", "old", "arabic", "latin", "disco", "house", "instrumental", "talking", "whispering",
)  # fmt: skip
FOLDER_OF = "0123456789ab" + "c" * 8 + "d" * 10 + "e" * 10 + "f" * 10  # tagged clips 0 ... 49
UNTAGGED_FOLDERS = "05ce"  # clips 50 ... 53: no top-50 tag
TILOPA, MISSING, CORRUPT = 47, 48, 49  # all in folder f, the test split of both protocols
CHORAL = (30, TILOPA, MISSING)  # the rarest top-50 tag; only one of its clips is usable
JAZZ = (0, 1)  # a decoy: more usable clips than choral, all in train, fewer clips in all
WON = {
    "train": [*range(10), 20, 21, 22],
    "valid": [10, 11, 12, 13, 14, 15, 52],
    "test": [16, 17, 18, 19, *range(24, 50)],
}
UNUSABLE = (TILOPA, MISSING, CORRUPT)


def _clip_path(clip: int) -> str:
    if clip == TILOPA:
        return "f/tilopa-turkishauch-05-schlicht_1-88-117.mp3"
    folder = FOLDER_OF[clip] if clip < 50 else UNTAGGED_FOLDERS[clip - 50]
    return f"{folder}/artist_{clip:02d}-album_{clip % 7}-01-track_{clip}-{clip % 3 * 29}-29.mp3"


def _clip_id(clip: int) -> str:
    return str(2 + 3 * clip)  # real clip ids start at 2 and have gaps


def _truth(rng: np.random.Generator) -> dict[int, set[str]]:
    """The tags of each clip, built so that only a count over the whole file finds TOP50."""
    truth = {clip: set() for clip in range(54)}
    for tag in TOP50[1:-1]:
        for clip in rng.choice(50, size=int(rng.integers(4, 10)), replace=False):
            truth[int(clip)].add(tag)
    for clip in rng.choice(50, size=20, replace=False):
        truth[int(clip)].add("guitar")
    for clip in range(50):
        if not truth[clip]:
            truth[clip].add("guitar")
    for clip in CHORAL:
        truth[clip].add("choral")
    for clip in JAZZ:
        truth[clip].add("jazz")
    for clip, tag in zip(rng.choice(50, size=30), OTHER[2:32], strict=True):
        truth[int(clip)].add(tag)  # rare tags: one clip each
    truth[50].add("medieval")
    truth[53].add("medieval")
    return truth


def _header(rng: np.random.Generator) -> list[str]:
    fillers = [f"misc {i}" for i in range(188 - len(TOP50) - len(OTHER))]
    middle = [*TOP50[:-1], *OTHER[1:], *fillers]
    rng.shuffle(middle)  # a bug that takes the first 50 columns must not pass
    return ["clip_id", "jazz", *middle, "choral", "mp3_path"]


def _write_annotations(path: Path, header: list[str], truth: dict[int, set[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(header)
        for clip, tags in truth.items():
            flags = ["1" if tag in tags else "0" for tag in header[1:-1]]
            writer.writerow([_clip_id(clip), *flags, _clip_path(clip)])


def _snapshot(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def mtt(tmp_path_factory):
    """A MagnaTagATune download in miniature: the real annotation format, mp3s in hex folders."""
    root = tmp_path_factory.mktemp("mtt")
    source, rng = root / "download", np.random.default_rng(0)
    truth, header = _truth(rng), _header(rng)
    source.mkdir()
    _write_annotations(source / "annotations_final.csv", header, truth)
    for clip in truth:
        path = source / _clip_path(clip)
        if clip == TILOPA:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")  # the real one is empty too
        elif clip == CORRUPT:
            write_corrupt(path)
        elif clip != MISSING:
            rate, seconds = (16000, 0.5) if clip % 2 else (22050, 1.0)
            write_tone(path, seconds, rate, freq=200.0 + 37.0 * clip)
    split_dir = root / "won_split"
    split_dir.mkdir()
    for name, clips in WON.items():
        entries = [f"{clip}\t{_clip_path(clip)}" for clip in clips]
        if name == "test":
            entries.append("60\te/not-in-annotations.mp3")
        np.save(split_dir / f"{name}.npy", np.array(entries))
    np.save(split_dir / "tags.npy", np.array(TOP50[::-1]))
    return {"root": root, "source": source, "truth": truth, "header": header, "split": split_dir}


def _prepare(root: Path, source: Path, target: Path, *extra: str) -> dict:
    return run_prepare(root / "runs" / target.name, "mtt", source, target, *extra)


@pytest.fixture(scope="module")
def folder_run(mtt):
    target = mtt["root"] / "data" / "mtt"
    return target, _prepare(mtt["root"], mtt["source"], target)


@pytest.fixture(scope="module")
def won_run(mtt):
    target = mtt["root"] / "won" / "mtt"
    split = f"dataset.split_dir={mtt['split']}"
    return target, _prepare(mtt["root"], mtt["source"], target, split)


def _expected_tags(mtt) -> list[str]:
    counts = {tag: sum(tag in tags for tags in mtt["truth"].values()) for tag in TOP50}
    column = {tag: i for i, tag in enumerate(mtt["header"])}
    return sorted(TOP50, key=lambda tag: (-counts[tag], column[tag]))


def test_folder_split_counts_and_what_was_skipped(folder_run):
    target, report = folder_run
    assert report["dataset"] == "mtt" and report["split_protocol"] == "folders"
    assert report["splits"] == {"train": 12, "val": 8, "test": 27}
    assert report["dropped_no_tag"] == {"train": 2, "val": 1, "test": 1}
    assert report["not_in_split"] == 0
    assert report["missing"] == [_clip_id(MISSING)]
    assert sorted(report["failed"]) == sorted([_clip_id(TILOPA), _clip_id(CORRUPT)])
    assert report["failed"][_clip_id(TILOPA)]["file"].endswith(_clip_path(TILOPA))
    assert report["failed"][_clip_id(CORRUPT)]["file"].endswith(_clip_path(CORRUPT))
    usable = {_clip_id(c) for c in range(50) if c not in UNUSABLE}
    assert set(report["converted"]) == usable and report["reused"] == []
    assert report["caption_files"] == ["mtt_train.json", "mtt_val.json", "mtt_test.json"]


def test_top_tags_are_counted_over_the_whole_annotation_file(mtt, folder_run):
    _, report = folder_run
    assert report["tags"] == _expected_tags(mtt)
    assert set(report["tags"]) == set(TOP50)
    # choral is rarest and mostly on unusable clips; jazz is the decoy a partial count picks.
    assert report["tags"][0] == "guitar" and report["tags"][-1] == "choral"


def test_sets_and_captions_carry_each_clips_top_tags(mtt, folder_run):
    target, report = folder_run
    raw = json.loads((target / "zeroshot" / "test.json").read_text())
    assert raw["split_protocol"] == "folders"
    labelled = read_labelled_set(target / "zeroshot" / "test.json")
    assert labelled.type == "tagging" and list(labelled.labels) == report["tags"]
    assert labelled.templates == TEMPLATES
    assert len(labelled.audio_paths) == 27 and all(p.is_file() for p in labelled.audio_paths)
    by_id = {_clip_id(c): c for c in mtt["truth"]}
    for split, count in report["splits"].items():
        entries = json.loads((target / f"mtt_{split}.json").read_text())
        assert len(entries) == count
        for entry in entries:
            tags = mtt["truth"][by_id[entry["audio_id"]]]
            assert entry["caption"] == ", ".join(t for t in report["tags"] if t in tags)
            assert (target / entry["audio_path"]).is_file()
    test_ids = {e["audio_id"] for e in json.loads((target / "mtt_test.json").read_text())}
    assert _clip_id(52) not in test_ids and _clip_id(53) not in test_ids  # untagged


def test_outputs_are_16k_mono_flac_and_stay_inside_the_target(mtt, folder_run):
    target, _ = folder_run
    info = sf.info(target / "audio" / Path(_clip_path(0)).with_suffix(".flac"))
    assert (info.samplerate, info.channels, info.format) == (16000, 1, "FLAC")
    assert abs(info.frames - 16000) < 1600  # from 1 s at 22.05 kHz (mp3 adds a little padding)
    written = set(_snapshot(target))
    assert all(
        name.startswith(("audio/", "zeroshot/", "mtt_")) or name == "prepare_report.json"
        for name in written
    )
    assert {p.suffix for p in (target / "audio").rglob("*") if p.is_file()} == {".flac"}
    assert len([n for n in written if n.startswith("audio/")]) == 47
    assert not (mtt["source"] / "audio").exists()
    assert {p.name for p in mtt["source"].iterdir()} == {
        "annotations_final.csv",
        *"0123456789abcdef",
    }


def test_a_rerun_converts_only_what_is_gone(mtt, folder_run, tmp_path):
    target = tmp_path / "mtt"
    shutil.copytree(folder_run[0], target)
    (target / "audio" / Path(_clip_path(5)).with_suffix(".flac")).unlink()
    report = _prepare(tmp_path, mtt["source"], target)
    assert report["converted"] == [_clip_id(5)]
    assert len(report["reused"]) == 46
    assert report["splits"] == folder_run[1]["splits"]


def test_won_split_uses_the_split_files_and_their_tag_order(won_run):
    target, report = won_run
    assert report["split_protocol"] == "won2020"
    assert report["splits"] == {"train": 13, "val": 6, "test": 27}
    assert report["dropped_no_tag"] == {"train": 0, "val": 1, "test": 0}
    assert report["not_in_split"] == 4  # clip 23 and three untagged clips
    assert report["not_annotated"] == ["e/not-in-annotations.mp3"]
    assert report["tags"] == list(TOP50[::-1])
    data = json.loads((target / "zeroshot" / "val.json").read_text())
    assert data["split_protocol"] == "won2020" and data["labels"] == list(TOP50[::-1])
    assert not (target / "audio" / Path(_clip_path(23)).with_suffix(".flac")).exists()


def test_pickled_split_files_are_refused_unless_allowed(mtt, won_run, tmp_path):
    split_dir = tmp_path / "pickled"
    split_dir.mkdir()
    for name in ("train", "valid", "test"):
        entries = np.load(mtt["split"] / f"{name}.npy").tolist()
        np.save(split_dir / f"{name}.npy", np.array(entries, dtype=object), allow_pickle=True)
    target = tmp_path / "mtt"
    split = f"dataset.split_dir={split_dir}"
    with pytest.raises(MuscallError, match=r"test\.npy|train\.npy") as refused:
        _prepare(tmp_path, mtt["source"], target, split)
    assert "dataset.allow_pickle=true" in str(refused.value)
    assert not target.exists()
    shutil.copytree(won_run[0], target)
    report = _prepare(tmp_path, mtt["source"], target, split, "dataset.allow_pickle=true")
    assert report["splits"] == won_run[1]["splits"] and report["converted"] == []


def test_zeroshot_mtt_reads_the_prepared_test_set(folder_run, tiny_checkpoint, tmp_path):
    target, _ = folder_run
    overrides = [
        "task=zeroshot",
        "zeroshot=mtt",
        f"paths.data_dir={target.parent}",
        f"ckpt_path={tiny_checkpoint}",
        "trainer=cpu",
        "data.num_workers=0",
        "data.clip_seconds=1.0",  # the clips are 1 s: no padding them to 10 s
    ]
    metrics = zeroshot.run(compose_config(overrides, tmp_path / "zs"))
    assert metrics["zeroshot/mtt/num_items"] == 27
    for key in ("roc_auc_macro", "pr_auc_macro"):
        assert 0.0 <= metrics[f"zeroshot/mtt/{key}"] <= 1.0
    # A tag with no positive (or no negative) clip in the set has no AUC: it is left out.
    labelled = read_labelled_set(target / "zeroshot" / "test.json")
    positives = Counter(tag for tags in labelled.targets for tag in tags)
    scorable = sum(0 < positives[t] < 27 for t in range(len(labelled.labels)))
    assert metrics["zeroshot/mtt/num_tags_scored"] == scorable


def test_paths_that_leave_the_download_are_refused(mtt, tmp_path):
    source = tmp_path / "download"
    shutil.copytree(mtt["source"], source, ignore=shutil.ignore_patterns("*.mp3"))
    split_dir = tmp_path / "split"
    shutil.copytree(mtt["split"], split_dir)
    np.save(split_dir / "test.npy", np.array(["0\td/ok.mp3", "1\t../../etc/passwd"]))
    with pytest.raises(MuscallError, match=r"test\.npy row 2"):
        _prepare(tmp_path, source, tmp_path / "mtt", f"dataset.split_dir={split_dir}")
    annotations = source / "annotations_final.csv"
    lines = annotations.read_text().splitlines()
    lines[3] = lines[3].rsplit("\t", 1)[0] + '\t"/etc/passwd"'
    annotations.write_text("\n".join(lines) + "\n")
    with pytest.raises(MuscallError, match="annotations_final.csv line 4"):
        _prepare(tmp_path, source, tmp_path / "mtt")
    assert not (tmp_path / "mtt").exists()
