"""task=shard's writing: every usable item once, round-tripped; bad audio skipped; whole shards."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import soundfile as sf
import webdataset as wds

from muscall.atomic import PARTIAL_PREFIX
from muscall.config import compose_config
from muscall.data.shards.format import MANIFEST
from muscall.errors import MuscallError
from tests.helpers.datasets import write_tiny_dataset
from tests.helpers.shards import COUNTS, PER_SHARD, shard_folder, sharded


def _samples(folder, split):
    manifest = json.loads((folder / MANIFEST).read_text())
    urls = [str(folder / name) for name in manifest["splits"][split]["shards"]]
    return manifest, list(wds.tarfile_samples([{"url": u} for u in urls]))


@pytest.fixture(scope="module", params=["flac", "npy"])
def shards(request, tmp_path_factory):
    return sharded(tmp_path_factory.mktemp(request.param), request.param)


def test_every_item_is_written_once_with_its_captions_and_audio(shards):
    data = shards.parent / "tiny"
    for split, count in zip(("train", "val", "test"), COUNTS, strict=True):
        manifest, samples = _samples(shards, split)
        entries = {e["audio_id"]: e for e in json.loads((data / f"tiny_{split}.json").read_text())}
        assert manifest["splits"][split]["count"] == count == len(samples)
        assert sorted(s["id.txt"].decode() for s in samples) == sorted(entries)
        for sample in samples:
            entry = entries[sample["id.txt"].decode()]
            assert json.loads(sample["captions.json"]) == [entry["caption"]]
            metadata = json.loads(sample["metadata.json"])
            assert metadata["source"] == entry["audio_path"]
            assert metadata["sample_rate"] == 16000 and metadata["duration"] == 1.5
            original = np.load(data / entry["audio_path"])
            if "flac" in sample:
                audio, rate = sf.read(io.BytesIO(sample["flac"]), dtype="float32")
                assert rate == 16000
                np.testing.assert_allclose(audio, original, atol=1e-4)  # 16-bit
            else:
                np.testing.assert_array_equal(np.load(io.BytesIO(sample["npy"])), original)


def test_shards_are_cut_at_the_item_limit_and_the_manifest_lists_them(shards):
    manifest = json.loads((shards / MANIFEST).read_text())
    train = manifest["splits"]["train"]
    assert train["shards"] == [f"train-{i:06d}.tar" for i in range(4)]
    assert train["counts"] == [PER_SHARD] * 4
    assert train["urls"] == "train-{000000..000003}.tar"
    assert sorted(p.name for p in shards.glob("*.tar")) == sorted(
        train["shards"] + ["val-000000.tar", "test-000000.tar"]
    )


def test_the_train_split_is_written_shuffled_and_val_in_order(shards):
    _, train = _samples(shards, "train")
    _, val = _samples(shards, "val")
    ids = [s["id.txt"].decode() for s in train]
    assert ids != sorted(ids)
    assert [s["id.txt"].decode() for s in val] == sorted(s["id.txt"].decode() for s in val)


def test_bad_audio_is_reported_and_skipped(tmp_path):
    from muscall.data.bad_items import BadItemLog

    data = write_tiny_dataset(tmp_path / "tiny", counts=(12, 4, 0))
    (data / "audio" / "clip003.npy").write_bytes(b"not an array")
    np.save(data / "audio" / "clip005.npy", np.zeros(16000, np.float32))  # silent
    shards = shard_folder(data, "flac", "task.splits=[train]")
    entry = json.loads((shards / MANIFEST).read_text())["splits"]["train"]
    assert (entry["count"], entry["skipped"]) == (10, 2)
    _, samples = _samples(shards, "train")
    assert {"clip003", "clip005"}.isdisjoint(s["id.txt"].decode() for s in samples)
    reported = BadItemLog(tmp_path / "shard_run" / "bad_items.jsonl").read()
    assert {(r["audio_id"], r["kind"]) for r in reported} == {
        ("clip003", "undecodable"),
        ("clip005", "silent"),
    }


def test_a_killed_run_leaves_only_whole_shards_and_no_manifest(tmp_path, monkeypatch):
    from muscall.data.shards import writing as writer

    real = writer._encode_track
    calls = []

    def dies_on_the_fifteenth(track, settings):
        calls.append(track)
        if len(calls) == 15:
            raise KeyboardInterrupt
        return real(track, settings)

    monkeypatch.setattr(writer, "_encode_track", dies_on_the_fifteenth)
    with pytest.raises(KeyboardInterrupt):
        sharded(tmp_path, "flac")
    out = tmp_path / "tiny-shards"
    assert not (out / MANIFEST).exists()
    assert not list(out.glob(f"{PARTIAL_PREFIX}*"))
    assert [p.name for p in out.glob("*.tar")] == ["train-000000.tar"]  # closed before the kill
    assert len(list(wds.tarfile_samples([{"url": str(out / "train-000000.tar")}]))) == PER_SHARD
    monkeypatch.setattr(writer, "_encode_track", real)
    with pytest.raises(MuscallError, match="task.overwrite=true"):
        shard_folder(tmp_path / "tiny", "flac")
    shard_folder(tmp_path / "tiny", "flac", "task.overwrite=true")
    assert len(list(out.glob("train-*.tar"))) == 4 and (out / MANIFEST).is_file()


def test_shard_refuses_a_streamed_dataset(tmp_path):
    from muscall.tasks import shard

    cfg = compose_config(["task=shard", "data=webdataset", f"out={tmp_path}/x"], tmp_path)
    with pytest.raises(MuscallError, match="task=shard reads a dataset folder"):
        shard.run(cfg)
