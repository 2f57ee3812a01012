import json

import pytest

from muscall.data.captions import find_name, read_split
from muscall.errors import DatasetError


def _write(root, name, entries):
    (root / name).write_text(json.dumps(entries) if not isinstance(entries, str) else entries)


def test_multi_caption_entries_merge_and_bad_entries_are_skipped(tmp_path, caplog):
    _write(
        tmp_path,
        "ds_train.json",
        [
            {"audio_id": "a", "caption": "first", "audio_path": "audio/a.npy"},
            {"audio_id": "a", "caption": "second", "audio_path": "audio/a.npy"},
            {"audio_id": "b", "caption": ["one", "two", ""], "audio_path": "audio/b.npy"},
            {"audio_id": "c", "caption": "   ", "audio_path": "audio/c.npy"},
            {"audio_id": "d", "audio_path": "audio/d.npy"},
        ],
    )
    tracks = read_split(tmp_path, "ds", "train")
    assert [t.audio_id for t in tracks] == ["a", "b"]
    assert tracks[0].captions == ("first", "second")
    assert tracks[1].captions == ("one", "two")
    assert tracks[0].audio_path == (tmp_path / "audio/a.npy").resolve()
    assert "ds_train.json entry 3 (audio_id 'c'): empty caption" in caplog.text
    assert "ds_train.json entry 4 (audio_id 'd'): missing key 'caption'" in caplog.text


def test_malformed_json_names_file_and_position(tmp_path):
    _write(tmp_path, "ds_val.json", '[{"audio_id": "a",\n "caption": }]')
    with pytest.raises(DatasetError, match=r"ds_val.json: malformed JSON at line 2"):
        read_split(tmp_path, "ds", "val")


def test_no_usable_entries_is_an_error(tmp_path):
    _write(tmp_path, "ds_test.json", [{"audio_id": "a", "caption": "", "audio_path": "x"}])
    with pytest.raises(DatasetError, match="no usable entries"):
        read_split(tmp_path, "ds", "test")


def test_name_is_found_when_unambiguous(tmp_path):
    with pytest.raises(DatasetError, match="no <name>_train.json"):
        find_name(tmp_path, None)
    _write(tmp_path, "one_train.json", [])
    assert find_name(tmp_path, None) == "one"
    _write(tmp_path, "two_train.json", [])
    with pytest.raises(DatasetError, match="data.name"):
        find_name(tmp_path, None)
    assert find_name(tmp_path, "two") == "two"
    with pytest.raises(DatasetError, match="not found"):
        find_name(tmp_path / "missing", None)
