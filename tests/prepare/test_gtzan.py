"""dataset=gtzan: Kaggle's and the tarball's layouts in, filtered genre sets and FLAC out."""

import json

import numpy as np
import pytest
import soundfile as sf
from omegaconf import OmegaConf
from torchaudio.datasets import gtzan as gtzan_lists

from muscall.config import CONFIG_DIR, compose_config
from muscall.errors import MuscallError
from muscall.prepare import gtzan
from muscall.prepare.convert import Decoder
from muscall.prepare.gtzan import GENRES, LABELS, TEMPLATES
from tests.helpers.audio import write_corrupt, write_tone

from .conftest import run_prepare

PER_GENRE = {"train": 3, "val": 2, "test": 4}
LISTS = {
    "train": gtzan_lists.filtered_train,
    "val": gtzan_lists.filtered_valid,
    "test": gtzan_lists.filtered_test,
}
CORRUPT = "jazz.00054"  # unreadable in the real download, and listed in train
MISSING = "rock.00013"  # listed in test, absent here as after an interrupted unzip


def _chosen() -> dict[str, list[str]]:
    """A few real track names per genre and split, taken from the filtered lists."""
    chosen = {}
    for split, names in LISTS.items():
        chosen[split] = [
            name
            for genre in GENRES
            for name in [n for n in names if n.startswith(f"{genre}.")][: PER_GENRE[split]]
        ]
    assert MISSING in chosen["test"] and CORRUPT in LISTS["train"]
    return chosen


@pytest.fixture(scope="module")
def kaggle(tmp_path_factory):
    """Kaggle's layout: genres_original/<genre>/<genre>.000NN.wav, 22.05 kHz 16-bit mono."""
    base = tmp_path_factory.mktemp("gtzan")
    genres = base / "download" / "genres_original"
    for index, genre in enumerate(GENRES):
        for name in [n for names in _chosen().values() for n in names if n.startswith(f"{genre}.")]:
            if name != MISSING:
                write_tone(
                    genres / genre / f"{name}.wav", 0.5, 22050, 110.0 * (index + 2), 1, "PCM_16"
                )
    write_corrupt(genres / "jazz" / f"{CORRUPT}.wav")
    return base


@pytest.fixture(scope="module")
def prepared(kaggle):
    """The Kaggle download prepared once, into data/gtzan as zeroshot=gtzan expects it."""
    before = set(kaggle.rglob("*"))
    target = kaggle / "data" / "gtzan"
    report = run_prepare(kaggle / "run", "gtzan", kaggle / "download", target)
    written = {p for p in set(kaggle.rglob("*")) - before if p.is_file()}
    return target, report, written


def test_splits_hold_the_listed_tracks_that_decode(prepared):
    _, report, _ = prepared
    chosen = _chosen()
    assert report["splits"] == {
        "train": len(chosen["train"]),  # jazz.00054, listed in train too, fails to decode
        "val": len(chosen["val"]),
        "test": len(chosen["test"]) - 1,
    }
    assert list(report["failed"]) == [CORRUPT]
    assert report["failed"][CORRUPT]["file"].endswith("genres_original/jazz/jazz.00054.wav")
    assert MISSING in report["missing"]
    # Every other listed track is absent from this small copy, and reported as such:
    # present are the chosen ones less MISSING, plus CORRUPT.
    assert len(report["missing"]) == 930 - (sum(len(n) for n in chosen.values()) - 1 + 1)
    assert report["split"] == "filtered" and report["dataset"] == "gtzan"


def test_audio_is_16k_mono_flac_mirroring_the_download(prepared):
    target, report, written = prepared
    flacs = sorted((target / "audio").rglob("*.flac"))
    assert len(flacs) == len(report["converted"]) == sum(report["splits"].values())
    info = sf.info(target / "audio" / "genres_original" / "blues" / "blues.00029.flac")
    assert (info.samplerate, info.channels, info.format, info.subtype) == (
        16000,
        1,
        "FLAC",
        "PCM_16",
    )
    assert info.frames == 8000
    # The run folder (config.yaml) is the task's; every other new file is in the target.
    assert all(target in p.parents or p.parent.name == "run" for p in written)
    assert not list(target.rglob("*.partial"))


def test_labelled_sets_name_the_genres_as_text(prepared):
    target, report, _ = prepared
    test_set = json.loads((target / "zeroshot" / "test.json").read_text())
    assert test_set["type"] == "classification"
    assert (
        test_set["labels"]
        == list(LABELS)
        == [
            "blues",
            "classical",
            "country",
            "disco",
            "hip hop",
            "jazz",
            "metal",
            "pop",
            "reggae",
            "rock",
        ]
    )
    assert test_set["templates"] == list(TEMPLATES)
    items = {item["audio_id"]: item for item in test_set["items"]}
    assert MISSING not in items and len(items) == report["splits"]["test"]
    assert items["hiphop.00000"]["label"] == "hip hop"
    assert (target / "zeroshot" / items["hiphop.00000"]["audio_path"]).resolve().is_file()
    train_ids = {
        i["audio_id"] for i in json.loads((target / "zeroshot/train.json").read_text())["items"]
    }
    assert CORRUPT not in train_ids
    assert set(train_ids).isdisjoint(items) and set(train_ids) <= set(gtzan_lists.filtered_train)


def test_a_rerun_reuses_and_resumes(prepared, kaggle):
    target, first, _ = prepared
    # Reruns decode one file at most: no worker processes to start.
    again = run_prepare(kaggle / "run", "gtzan", kaggle / "download", target, workers=0)
    assert again["converted"] == [] and sorted(again["reused"]) == first["converted"]
    (target / "audio" / "genres_original" / "pop" / "pop.00053.flac").unlink()
    resumed = run_prepare(kaggle / "run", "gtzan", kaggle / "download", target, workers=0)
    assert resumed["converted"] == ["pop.00053"]
    assert resumed["splits"] == first["splits"]


def test_the_tarball_layout_and_the_full_protocol(tmp_path):
    """genres/<genre>/*.au given as the genres folder itself; `full` puts all in test."""
    genres = tmp_path / "genres"
    for genre in GENRES:
        (genres / genre).mkdir(parents=True)
        sf.write(
            genres / genre / f"{genre}.00000.au", _tone(), 22050, format="AU", subtype="PCM_16"
        )
    sf.write(genres / "rock" / "rock.00001.au", _tone(), 22050, format="AU", subtype="PCM_16")
    target = tmp_path / "out"
    report = run_prepare(tmp_path / "run", "gtzan", genres, target, "dataset.split=full")
    assert report["splits"] == {"test": 11}
    assert len(report["missing"]) == 1000 - 11
    assert (target / "audio" / "rock" / "rock.00001.flac").is_file()
    assert not (target / "zeroshot" / "train.json").exists()


def _tone():
    return (0.3 * np.sin(np.arange(11025) / 10)).astype(np.float32)


def _prepare_directly(source, target, **options):
    """The dataset's prepare function without the task: errors are raised before any work."""
    config = OmegaConf.merge(OmegaConf.load(CONFIG_DIR / "dataset" / "gtzan.yaml"), options)
    return gtzan.prepare(source, config, Decoder(target, 16000, 0, False))


def test_a_folder_without_genres_is_refused_by_name(tmp_path):
    write_tone(tmp_path / "music" / "blues.00000.wav", 0.5)
    with pytest.raises(MuscallError, match=f"source={tmp_path}.*genres_original"):
        _prepare_directly(tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_unknown_protocol_is_refused_by_key(kaggle, tmp_path):
    with pytest.raises(MuscallError, match="dataset.split='official'"):
        _prepare_directly(kaggle / "download", tmp_path / "out", split="official")


def test_zeroshot_reads_the_prepared_test_set(prepared, tiny_checkpoint, tmp_path):
    from muscall.tasks import zeroshot

    target, report, _ = prepared
    overrides = [
        "task=zeroshot",
        "zeroshot=gtzan",
        f"paths.data_dir={target.parent}",
        f"ckpt_path={tiny_checkpoint}",
        "trainer=cpu",
        "data.num_workers=0",
        "data.clip_seconds=1.0",
    ]
    metrics = zeroshot.run(compose_config(overrides, tmp_path))
    assert metrics["zeroshot/gtzan/num_items"] == report["splits"]["test"]
    assert 0.0 <= metrics["zeroshot/gtzan/accuracy"] <= 100.0  # percent
