"""task=validate: every problem of a dataset found up front, grouped by kind, with counts."""

import json
from collections import Counter

import pytest

from muscall.audio import reading as audio_io
from muscall.config import compose_config
from muscall.errors import DatasetError
from muscall.tasks import validate
from tests.helpers.bad_entries import EXPECTED, assert_reported, write_bad_dataset
from tests.helpers.datasets import write_tiny_dataset, write_word_set

# Problems of the sets and files added below, on top of the train split's (EXPECTED).
EXTRA = {"bad file": 3, "missing": 1, "outside": 1}


def _sets(dataset) -> dict[str, str]:
    sets = dataset / "sets"
    words = write_word_set(dataset)
    (sets / "escape.json").write_text(
        json.dumps(
            [
                {"audio_path": "../audio/clip000.npy", "label": "a"},
                {"audio_path": "../../outside.npy", "label": "b"},
            ]
        )
    )
    (sets / "broken.json").write_text('{"items": [')
    (sets / "broken.csv").write_text("path,genre\na.wav,rock\n")
    names = ("words", "escape", "broken", "broken_csv", "absent")
    files = (
        words,
        sets / "escape.json",
        sets / "broken.json",
        sets / "broken.csv",
        sets / "no.json",
    )
    return dict(zip(names, map(str, files), strict=True))


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    dataset = write_bad_dataset(tmp_path_factory.mktemp("bad") / "tiny")
    sets = ",".join(f"{name}:'{path}'" for name, path in _sets(dataset).items())
    (dataset / "tiny_test.json").write_text('[{"audio_id": "t", "caption": }]')
    out = tmp_path_factory.mktemp("validate")
    cfg = compose_config(
        [
            "task=validate",
            "data=folder",
            f"data.root={dataset}",
            "workers=0",
            f"zeroshot.sets={{{sets}}}",
        ],
        out,
    )
    probed = []
    real_probe = audio_io.probe
    audio_io.probe = lambda path, rate: probed.append(str(path)) or real_probe(path, rate)
    try:
        metrics = validate.run(cfg)
    finally:
        audio_io.probe = real_probe
    report = json.loads((out / "validation.json").read_text())
    return {"metrics": metrics, "report": report, "probed": probed, "dataset": dataset}


def test_every_kind_is_counted(validated):
    want = Counter(e["kind"] for e in EXPECTED.values()) + Counter(EXTRA)
    assert validated["report"]["counts"] == dict(want)
    assert validated["metrics"]["problems"] == want.total()
    assert validated["metrics"]["problems/undecodable"] == want["undecodable"]
    assert_reported(validated["report"]["items_with_problems"])


def test_file_level_problems_name_the_file(validated):
    errors = [p["error"] for p in validated["report"]["items_with_problems"]]
    assert any("tiny_test.json: malformed JSON at line 1" in e for e in errors)
    assert any("broken.json: malformed JSON" in e for e in errors)
    assert any("broken.csv: the header must name audio_path" in e for e in errors)
    assert any("no.json: labelled set file not found" in e for e in errors)
    assert any(
        "escape.json entry 1: audio_path '../../outside.npy' leads out of" in e for e in errors
    )


def test_audio_problems_name_where_the_file_is_named(validated):
    problems = validated["report"]["items_with_problems"]
    missing = next(p for p in problems if p.get("audio_id") == "missing")
    assert missing["error"].endswith(
        "(audio_id 'missing', named in "
        f"{validated['dataset'] / 'tiny_train.json'}): audio file not found"
    )


def test_nothing_outside_the_folder_is_opened_and_every_file_once(validated):
    probed = validated["probed"]
    assert not any("outside" in p or p == "/etc/hostname" for p in probed)
    assert len(probed) == len(set(probed)) == validated["report"]["audio_files"]
    # 8 good train clips, 4 val, 4 test (named by the words set) and the bad audio files.
    assert validated["report"]["audio_files"] == 8 + 4 + 4 + 14


def test_report_prints_each_kind_with_counts_and_examples(tmp_path, capsys):
    dataset = write_tiny_dataset(tmp_path / "tiny", counts=(4, 2, 2))
    for name in ("clip000.npy", "clip001.npy", "clip002.npy"):
        (dataset / "audio" / name).unlink()
    cfg = compose_config(
        [
            "task=validate",
            "data=folder",
            f"data.root={dataset}",
            "workers=2",
            "task.examples=2",
        ],
        tmp_path / "out",
    )
    metrics = validate.run(cfg)
    printed = capsys.readouterr().out
    assert "3 problems:" in printed and "  missing (3): audio file not found" in printed
    assert "clip000.npy (audio_id 'clip000'" in printed and "... and 1 more" in printed
    assert metrics == {"problems": 3.0, "items": 8.0, "audio_files": 8.0, "problems/missing": 3.0}


def test_a_config_it_cannot_act_on_fails_before_any_work(tmp_path):
    out = tmp_path / "out"
    cfg = compose_config(["task=validate", "data=folder", f"data.root={tmp_path / 'nope'}"], out)
    with pytest.raises(DatasetError, match="nope: dataset folder not found"):
        validate.run(cfg)
    assert not (out / "validation.json").exists()
