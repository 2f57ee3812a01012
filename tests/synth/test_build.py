import json

import numpy as np
import pytest

from muscall.data.captions import SPLITS
from muscall.errors import DatasetError, MuscallError
from muscall.synth import build_dataset, dataset_matches
from muscall.synth.clip import make_clip
from muscall.synth.manifest import MARKER
from muscall.synth.render import PEAK_LIMIT

from .conftest import TINY

SMALL = {"num_clips": 4, "clip_seconds": 1.0, "workers": 1}


def _entries(root, name="synthmusic"):
    return {s: json.loads((root / f"{name}_{s}.json").read_text()) for s in SPLITS}


def _all_files(root):
    files = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    manifest = json.loads(files.pop(root.joinpath("manifest.json").relative_to(root)))
    manifest.pop("seconds")
    return files, manifest


def test_layout_summary_and_manifest(tiny_build):
    root, summary = tiny_build
    assert summary["built"] and summary["clips"] == 20
    assert (summary["train"], summary["val"], summary["test"]) == (16, 2, 2)
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["params"]["num_clips"] == 20 and manifest["format_version"] >= 1
    assert sum(manifest["genres"].values()) == 20 and max(manifest["genres"].values()) == 2
    assert not (root / MARKER).exists()
    assert (root / "zeroshot" / "genre.json").is_file()


def test_splits_are_disjoint_and_cover_every_clip(tiny_build):
    root, _ = tiny_build
    ids = {split: [e["audio_id"] for e in entries] for split, entries in _entries(root).items()}
    everything = [i for split in SPLITS for i in ids[split]]
    assert len(everything) == len(set(everything)) == 20
    assert len(list((root / "audio").glob("*.npy"))) == 20
    test_genres = [e["attributes"]["genre"] for e in _entries(root)["test"]]
    assert len(set(test_genres)) == len(test_genres)  # stratified: dealt across genres


def test_entries_and_audio_are_well_formed(tiny_build):
    root, _ = tiny_build
    for entry in [e for entries in _entries(root).values() for e in entries]:
        assert set(entry) >= {"audio_id", "caption", "audio_path", "attributes"}
        sentence, tags = entry["caption"]
        assert sentence and tags and entry["audio_path"] == f"audio/{entry['audio_id']}.npy"
        audio = np.load(root / entry["audio_path"])
        assert audio.dtype == np.float32 and audio.shape == (int(2.5 * 16000),)
        assert np.isfinite(audio).all() and 0.01 < np.abs(audio).max() <= PEAK_LIMIT + 1e-6
        assert np.sqrt(np.mean(audio**2)) > 0.005


def test_entries_describe_what_was_composed(tiny_build):
    root, _ = tiny_build
    for entry in _entries(root)["train"]:
        index = int(entry["audio_id"].split("_")[1])
        attrs = entry["attributes"]
        clip = make_clip(TINY["seed"], index, attrs["genre"], 2.5, 16000, render_audio=False)
        assert clip.attributes.to_json() == attrs
        assert entry["caption"] == [clip.sentence, clip.tags]
        has_drum_notes = any(t.instrument.is_drums and t.notes for t in clip.tracks)
        assert has_drum_notes == attrs["has_drums"]


def test_output_is_identical_whatever_the_number_of_workers(tiny_build, tiny_build_two_workers):
    assert _all_files(tiny_build[0]) == _all_files(tiny_build_two_workers)


def test_another_seed_gives_another_dataset(tmp_path):
    build_dataset(tmp_path / "a", seed=1, **SMALL)
    build_dataset(tmp_path / "b", seed=2, **SMALL)
    a, b = _all_files(tmp_path / "a")[0], _all_files(tmp_path / "b")[0]
    assert a.keys() == b.keys()
    assert all(a[k] != b[k] for k in a if k.suffix == ".npy")


def test_matching_dataset_is_reused_without_work(tiny_build):
    root, _ = tiny_build
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    summary = build_dataset(root, workers=2, **TINY)
    assert not summary["built"] and summary["test"] == 2
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before
    assert dataset_matches(root, **TINY)
    assert not dataset_matches(root, **{**TINY, "seed": 4})
    assert not dataset_matches(root.parent / "nowhere", **TINY)


def test_mismatched_dataset_is_refused_then_overwritten_on_request(tmp_path):
    root = tmp_path / "data"
    build_dataset(root, **{**SMALL, "num_clips": 5})
    with pytest.raises(DatasetError, match="overwrite") as error:
        build_dataset(root, **SMALL)
    assert str(root) in str(error.value) and "num_clips=5->4" in str(error.value)
    assert build_dataset(root, overwrite=True, **SMALL)["built"]
    assert sorted(p.name for p in (root / "audio").iterdir())[-1] == "synth_00003.npy"
    assert dataset_matches(root, **SMALL)


def test_a_folder_of_other_files_is_refused_and_never_emptied(tmp_path):
    (tmp_path / "mine.txt").write_text("user data")
    with pytest.raises(DatasetError, match="holds no built-in dataset"):
        build_dataset(tmp_path, **SMALL)
    build_dataset(tmp_path, overwrite=True, **SMALL)
    assert (tmp_path / "mine.txt").read_text() == "user data"


def test_an_interrupted_build_is_not_taken_for_a_dataset(tmp_path):
    root = tmp_path / "data"
    build_dataset(root, **SMALL)
    (root / "manifest.json").unlink()  # as if killed before the manifest was written
    (root / MARKER).write_text("")
    assert not dataset_matches(root, **SMALL)
    assert build_dataset(root, **SMALL)["built"]  # our own leftovers: rebuilt, no overwrite
    assert dataset_matches(root, **SMALL) and not (root / MARKER).exists()


def test_bad_parameters_are_named(tmp_path):
    with pytest.raises(MuscallError, match="num_clips=1"):
        build_dataset(tmp_path, num_clips=1)
    with pytest.raises(MuscallError, match="val_fraction"):
        build_dataset(tmp_path, num_clips=10, val_fraction=0.6, test_fraction=0.5)


def test_a_dataset_from_other_generator_code_is_re_rendered(tmp_path):
    # Same parameters, older code: reusing it would silently train on stale captions.
    root = tmp_path / "data"
    build_dataset(root, **SMALL)
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["source_hash"] = "older-code"
    (root / "manifest.json").write_text(json.dumps(manifest))
    assert not dataset_matches(root, **SMALL)
    assert build_dataset(root, **SMALL)["built"]
    assert dataset_matches(root, **SMALL)
