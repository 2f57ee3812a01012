import json

import pytest

from muscall.data.labelled import read_labelled_set
from muscall.errors import DatasetError


def test_json_classification_with_declared_labels(tmp_path):
    (tmp_path / "sets").mkdir()
    path = tmp_path / "sets" / "genre.json"
    path.write_text(
        json.dumps(
            {
                "type": "classification",
                "labels": ["rock", "jazz", "pop"],
                "items": [
                    {"audio_path": "../a.wav", "label": "jazz"},
                    {"audio_path": "b.wav", "label": "rock"},
                ],
            }
        )
    )
    labelled = read_labelled_set(path)
    assert labelled.name == "genre" and labelled.type == "classification"
    assert labelled.labels == ("rock", "jazz", "pop")  # declared order, unused labels kept
    assert labelled.targets == ((1,), (0,))
    assert labelled.audio_paths[0] == (tmp_path / "a.wav").resolve()


def test_csv_tagging_inferred_vocabulary(tmp_path):
    path = tmp_path / "tags.csv"
    path.write_text("audio_path,labels\na.wav,piano;sad\nb.wav,drums\n")
    labelled = read_labelled_set(path)
    assert labelled.type == "tagging"
    assert labelled.labels == ("drums", "piano", "sad")
    assert labelled.targets == ((1, 2), (0,))


def test_tsv_single_label(tmp_path):
    path = tmp_path / "genre.tsv"
    path.write_text("audio_path\tlabel\na.wav\tblues\n")
    assert read_labelled_set(path).type == "classification"


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"items": [', "malformed JSON"),
        ('{"type": "clustering", "items": [{"audio_path": "a", "label": "x"}]}', "'type' must be"),
        ('{"labels": ["a"], "items": [{"audio_path": "a", "label": "b"}]}', "not in the 'labels'"),
        (
            '{"type": "classification", "items": [{"audio_path": "a", "labels": ["x", "y"]}]}',
            "exactly one label",
        ),
        ('[{"audio_path": "a"}]', "no usable items"),
    ],
)
def test_errors_name_the_file(tmp_path, content, message):
    path = tmp_path / "set.json"
    path.write_text(content)
    with pytest.raises(DatasetError, match=message) as info:
        read_labelled_set(path)
    assert str(path) in str(info.value)
