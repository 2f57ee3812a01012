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


def test_audio_paths_stay_in_the_sets_dataset_folder(tmp_path, caplog):
    # <dataset>/zeroshot/set.json may name ../audio/..., never a file out of <dataset>.
    dataset = tmp_path / "dataset"
    (dataset / "zeroshot").mkdir(parents=True)
    (dataset / "audio").mkdir()
    (tmp_path / "secret.wav").write_bytes(b"")
    (dataset / "audio" / "link.wav").symlink_to(tmp_path / "secret.wav")
    items = [
        {"audio_path": "../audio/a.wav", "label": "x"},
        {"audio_path": "/etc/hostname", "label": "x"},
        {"audio_path": "../../secret.wav", "label": "x"},
        {"audio_path": "../audio/link.wav", "label": "x"},
        {"audio_path": 7, "label": "x"},
    ]
    path = dataset / "zeroshot" / "set.json"
    path.write_text(json.dumps(items))
    labelled = read_labelled_set(path)
    assert labelled.audio_paths == ((dataset / "audio" / "a.wav").resolve(),)
    for entry, reason in [(1, "is absolute"), (2, "leads out of"), (3, "is a symlink to")]:
        assert f"set.json entry {entry}: audio_path" in caplog.text
        assert reason in caplog.text
    assert "set.json entry 4: needs an audio_path" in caplog.text
    # An explicit root narrows the rule: the set's own folder.
    with pytest.raises(DatasetError, match="no usable items"):
        read_labelled_set(path, root=dataset / "zeroshot")


@pytest.mark.parametrize(
    "content, message",
    [
        ("path,genre\na.wav,rock\n", r"header must name audio_path and label .*'path', 'genre'"),
        ("", "header must name audio_path"),
        ('audio_path,label\n"a.wav,rock\n', "malformed CSV at line"),
        (b"audio_path,label\n\xff\xfe.wav,rock\n", "not UTF-8"),
    ],
)
def test_malformed_csv_names_the_file(tmp_path, content, message):
    path = tmp_path / "set.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(DatasetError, match=message) as info:
        read_labelled_set(path)
    assert str(path) in str(info.value)


def test_a_csv_row_with_surplus_fields_is_skipped(tmp_path, caplog):
    path = tmp_path / "set.csv"
    path.write_text("audio_path,label\na.wav,rock\nb.wav,jazz,extra\n")
    assert len(read_labelled_set(path).audio_paths) == 1
    assert "set.csv entry 1: 3 fields, the header names 2" in caplog.text
