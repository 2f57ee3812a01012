"""dataset=folder: nested audio and a CSV or JSONL of captions in, caption split files out."""

import json

import pytest
import soundfile as sf
from omegaconf import OmegaConf

from muscall.config import CONFIG_DIR, compose_config
from muscall.errors import DatasetError, MuscallError
from muscall.prepare import folder
from muscall.prepare.convert import Decoder
from muscall.prepare.folder import hashed_split
from muscall.tasks import prepare
from tests.helpers.audio import write_corrupt, write_tone

from .conftest import run_prepare

# Rows are numbered as lines of the file: the header is row 1.
CSV_ROWS = [
    "path,caption,split",
    'a/b/x.wav,"a bright piano, close and dry",train',  # row 2
    "a/b/x.wav,a second caption of x,train",
    "y.mp3,a warm guitar,train",
    "z.flac,drums recorded at 48k,val",
    "c.ogg,a synth pad,test",
    "deep/er/d.wav,a low hum,test",
    "deep/er/d.wav,a drone with no melody,test",
    "e.wav,a flute,test",
    "f.mp3,strings,test",
    "bad.wav,a corrupt download,test",
    "gone.wav,a file that is not there,test",
    "g.wav,,train",  # row 13: empty caption
    ",no path given,train",  # row 14
    "../outside.wav,outside the folder,train",  # row 15
    "/etc/abs.wav,an absolute path,train",  # row 16
    "e.mp3,the same track as another format,test",  # row 17: would also be audio/e.flac
]


def _write_audio(source):
    write_tone(source / "a" / "b" / "x.wav", 1.0, 44100, 330.0, channels=2)
    write_tone(source / "y.mp3", 1.0, 44100, 220.0)
    write_tone(source / "z.flac", 0.5, 48000, 440.0)
    write_tone(source / "c.ogg", 0.5, 22050, 550.0)
    write_tone(source / "deep" / "er" / "d.wav", 0.5, 16000, 110.0)
    write_tone(source / "e.wav", 0.5, 22050, 880.0, subtype="PCM_16")
    write_tone(source / "f.mp3", 1.0, 22050, 660.0)
    write_tone(source / "g.wav", 0.5, 22050, 990.0)
    write_tone(source / "stray.wav", 0.5, 22050, 770.0)  # named by no row
    write_corrupt(source / "bad.wav")
    write_tone(source.parent / "outside.wav", 0.5)


QUIET = ["task=prepare", "dataset=folder", "task.progress=false"]


@pytest.fixture(scope="module")
def csv_source(tmp_path_factory):
    source = tmp_path_factory.mktemp("folder") / "music"
    _write_audio(source)
    (source / "captions.csv").write_text("\n".join(CSV_ROWS) + "\n")
    return source


@pytest.fixture(scope="module")
def prepared(csv_source):
    base = csv_source.parent
    before = set(base.rglob("*"))
    target = base / "prepared"
    report = run_prepare(base / "run", "folder", csv_source, target, "dataset.name=mine")
    written = {p for p in set(base.rglob("*")) - before if p.is_file()}
    return target, report, written


def _prepare_directly(source, target, **options):
    """The dataset's prepare function without the task: errors are raised before any work."""
    config = OmegaConf.merge(OmegaConf.load(CONFIG_DIR / "dataset" / "folder.yaml"), options)
    return folder.prepare(source, config, Decoder(target, 16000, 0, False))


def _split(target, split, name="mine"):
    return json.loads((target / f"{name}_{split}.json").read_text())


def test_split_column_places_tracks_and_bad_files_are_reported(prepared):
    target, report, _ = prepared
    assert report["splits"] == {"train": 2, "val": 1, "test": 4}
    assert report["captions"] == {"train": 3, "val": 1, "test": 5}
    assert list(report["failed"]) == ["bad"] and report["failed"]["bad"]["file"].endswith("bad.wav")
    assert report["missing"] == ["gone"]
    assert report["uncaptioned"] == 2  # stray.wav, and g.wav whose only row was bad
    assert report["captions_file"].endswith("captions.csv")


def test_bad_rows_are_named_by_file_and_row_and_skipped(prepared):
    _, report, _ = prepared
    rows = {r["row"]: r["error"] for r in report["bad_rows"]}
    assert sorted(rows) == [13, 14, 15, 16, 17]
    assert rows[13] == "empty caption" and rows[14] == "no path"
    assert "outside" in rows[15] and "absolute" in rows[16]
    assert rows[17] == "e.mp3 would overwrite e.wav (row 9) as audio/e.flac"
    assert {r["file"] for r in report["bad_rows"]} == {"captions.csv"}


def test_split_files_hold_one_entry_per_caption(prepared):
    target, _, _ = prepared
    train = _split(target, "train")
    assert [e["audio_id"] for e in train] == ["a/b/x", "a/b/x", "y"]
    assert train[0] == {
        "audio_id": "a/b/x",
        "caption": "a bright piano, close and dry",
        "audio_path": "audio/a/b/x.flac",
    }
    test_ids = {e["audio_id"] for e in _split(target, "test")}
    assert test_ids == {"c", "deep/er/d", "e", "f"}


def test_audio_is_16k_mono_flac_and_only_the_target_is_written(prepared):
    target, report, written = prepared
    flacs = sorted(p.relative_to(target).as_posix() for p in target.rglob("*.flac"))
    assert flacs == sorted(f"audio/{i}.flac" for i in report["converted"])
    for flac in flacs:
        info = sf.info(target / flac)
        assert (info.samplerate, info.channels, info.format) == (16000, 1, "FLAC")
    assert sf.info(target / "audio" / "z.flac").frames == 8000
    # The run folder (config.yaml) is the task's; every other new file is in the target.
    assert all(target in p.parents or p.parent.name == "run" for p in written)


def test_a_rerun_reuses_and_resumes(prepared, csv_source):
    target, first, _ = prepared
    run = csv_source.parent / "run"
    # Reruns decode one file at most: no worker processes to start.
    again = run_prepare(run, "folder", csv_source, target, "dataset.name=mine", workers=0)
    assert again["converted"] == [] and sorted(again["reused"]) == first["converted"]
    (target / "audio" / "deep" / "er" / "d.flac").unlink()
    resumed = run_prepare(run, "folder", csv_source, target, "dataset.name=mine", workers=0)
    assert resumed["converted"] == ["deep/er/d"] and resumed["splits"] == first["splits"]


def _write_jsonl(source, rows):
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    (source / "captions.jsonl").write_text("\n".join(lines) + "\n")


def test_jsonl_without_split_hashes_paths_into_splits(tmp_path):
    source = tmp_path / "music"
    names = [f"t{i}.wav" for i in range(8)]
    for name in names:
        write_tone(source / "clips" / name, 0.5, 22050)
    rows = [{"path": f"clips/{n}", "caption": [f"clip {n}", f"take {n}"]} for n in names]
    rows += ["{not json", "[1, 2]", {"path": "clips/t0.wav", "caption": []}]
    _write_jsonl(source, rows)
    options = ["dataset.val_fraction=0.3", "dataset.test_fraction=0.3"]
    options += [f"paths.data_dir={tmp_path / 'data'}"]
    overrides = [*QUIET, "workers=2", f"source={source}", *options]
    prepare.run(compose_config(overrides, tmp_path / "run"))
    # No target given: ${paths.data_dir}/<dataset.name>, where data=folder finds it.
    target = tmp_path / "data" / "folder"
    report = json.loads((target / "prepare_report.json").read_text())
    assert [(r["row"], r["error"][:12]) for r in report["bad_rows"]] == [
        (9, "not valid JS"),
        (10, "not a JSON o"),
        (11, "empty captio"),
    ]
    for split in ("train", "val", "test"):
        for entry in _split(target, split, "folder"):
            assert split == hashed_split(f"{entry['audio_id']}.wav", 0.3, 0.3)
    assert sum(report["splits"].values()) == 8 and sum(report["captions"].values()) == 16


def test_hashed_splits_are_stable_and_near_their_fractions():
    # Pinned: a process-salted hash() would move these between runs.
    assert [hashed_split(f"song{i}.wav", 0.3, 0.3) for i in range(8)] == PINNED
    splits = [hashed_split(f"track_{i:05d}.mp3", 0.1, 0.2) for i in range(5000)]
    assert abs(splits.count("val") / 5000 - 0.1) < 0.02
    assert abs(splits.count("test") / 5000 - 0.2) < 0.02


PINNED = ["test", "val", "train", "train", "test", "test", "val", "val"]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ([], "no .csv or .jsonl captions file"),
        (["a.csv", "b.jsonl"], r"several captions files \(a.csv, b.jsonl\)"),
    ],
)
def test_the_captions_file_must_be_one_and_named_by_folder(tmp_path, files, expected):
    source = tmp_path / "music"
    write_tone(source / "x.wav", 0.5)
    for name in files:
        (source / name).write_text("path,caption\nx.wav,a tone\n")
    with pytest.raises(MuscallError, match=expected) as caught:
        _prepare_directly(source, tmp_path / "out")
    assert str(source) in str(caught.value)


@pytest.mark.parametrize(
    ("csv", "expected"),
    [
        ("file,text\nx.wav,a tone\n", r"captions.csv row 1: the header needs `path` and `caption`"),
        ("path,caption,split\nx.wav,a tone,training\n", r"captions.csv row 2: split 'training'"),
        (
            "path,caption,split\nx.wav,a tone,train\nx.wav,again,test\n",
            r"captions.csv row 3: x.wav is in test here, in train in row 2",
        ),
    ],
)
def test_mistakes_that_spoil_every_row_stop_with_file_and_row(tmp_path, csv, expected):
    source = tmp_path / "music"
    write_tone(source / "x.wav", 0.5)
    (source / "captions.csv").write_text(csv)
    with pytest.raises(DatasetError, match=expected):
        _prepare_directly(source, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"name": "../up"}, r"dataset.name='../up'"),
        ({"val_fraction": 0.5, "test_fraction": 0.5}, r"dataset.val_fraction=0.5"),
        ({"captions": "notes.txt"}, r"dataset.captions=notes.txt: file not found"),
    ],
)
def test_options_that_cannot_work_are_refused_by_key(tmp_path, options, expected):
    write_tone(tmp_path / "music" / "x.wav", 0.5)
    (tmp_path / "music" / "captions.csv").write_text("path,caption\nx.wav,a tone\n")
    with pytest.raises(MuscallError, match=expected):
        _prepare_directly(tmp_path / "music", tmp_path / "out", **options)


def test_retrieval_reads_the_prepared_split(prepared, tiny_checkpoint, tmp_path):
    from muscall.tasks import retrieval

    target, report, _ = prepared
    overrides = [
        "task=retrieval",
        "data=folder",
        f"data.root={target}",
        "data.name=mine",
        f"ckpt_path={tiny_checkpoint}",
        "split=test",
        "trainer=cpu",
        "data.num_workers=0",
        "data.clip_seconds=1.0",
    ]
    metrics = retrieval.run(compose_config(overrides, tmp_path))
    assert metrics["num_tracks"] == report["splits"]["test"] == 4
    assert metrics["num_captions"] == report["captions"]["test"] == 5
