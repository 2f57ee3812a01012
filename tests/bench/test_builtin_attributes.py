"""Per-attribute zero-shot sets of the built-in data, and the option that selects them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from muscall.config import compose_config
from muscall.data.labelled import read_labelled_set
from muscall.data.zeroshot_sets import ZeroShotSets

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "builtin_attributes.py"


def _module():
    spec = importlib.util.spec_from_file_location("builtin_attributes", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _entry(i: int, tempo: str, mode: str, drums: bool, families: list[str]) -> dict:
    attributes = {"tempo": tempo, "mode": mode, "has_drums": drums, "families": families,
                  "dynamics": "loud" if i % 2 else "soft"}  # fmt: skip
    return {"audio_id": f"c{i}", "caption": "x", "audio_path": f"audio/c{i}.npy",
            "attributes": attributes}  # fmt: skip


def _dataset(root: Path) -> Path:
    entries = [
        _entry(0, "slow", "major", True, ["piano", "drums"]),
        _entry(1, "moderate", "minor", False, ["piano", "strings"]),
        _entry(2, "fast", "minor", True, ["guitar", "bass", "drums"]),
        _entry(3, "fast", "major", False, ["piano"]),
    ]
    (root / "audio").mkdir(parents=True)
    (root / "synthmusic_test.json").write_text(json.dumps(entries))
    return root


def test_sets_follow_the_recorded_attributes(tmp_path):
    root = _dataset(tmp_path / "synth")
    _module().write_sets(root)
    tempo = read_labelled_set(root / "attributes" / "tempo.json")
    # The moderate clip is left out: the set asks slow or fast.
    assert [p.name for p in tempo.audio_paths] == ["c0.npy", "c2.npy", "c3.npy"]
    assert [tempo.labels[t[0]] for t in tempo.targets] == ["slow", "fast", "fast"]
    drums = read_labelled_set(root / "attributes" / "percussion.json")
    assert [drums.labels[t[0]] for t in drums.targets] == ["drums", "no drums", "drums", "no drums"]
    families = read_labelled_set(root / "attributes" / "instrument.json")
    # piano is on 3 of 4 clips, so it stays; drums is a percussion question, not a family.
    assert families.type == "tagging" and set(families.labels) == {
        "piano",
        "strings",
        "guitar",
        "bass",
    }
    assert read_labelled_set(root / "attributes" / "mode.json").templates is not None


def test_zeroshot_attributes_finds_the_sets_a_dataset_has(tmp_path):
    root = _dataset(tmp_path / "synth")
    _module().write_sets(root)
    cfg = compose_config(["zeroshot=attributes", "data=folder", f"data.root={root}"], tmp_path)
    sets = ZeroShotSets.from_config(cfg.zeroshot)
    # register belongs to the held-out set only: reported missing and skipped.
    assert sorted(sets) == ["dynamics", "instrument", "mode", "percussion", "tempo"]
