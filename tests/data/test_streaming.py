"""data=webdataset: epochs over the shard stream, shuffling, resuming, bad samples, val shards."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hydra.utils import instantiate

from muscall.config import compose_config
from muscall.data.bad_items import BadItemLog
from muscall.errors import DatasetError
from tests.helpers.shards import COUNTS, rewrite_member, sharded

TRAIN, VAL, _ = COUNTS


@pytest.fixture(scope="module", params=["flac", "npy"])
def shards(request, tmp_path_factory):
    return sharded(tmp_path_factory.mktemp(request.param), request.param)


def datamodule(tmp_path, *overrides, urls=None, seed=0):
    cfg = compose_config(
        [
            "data=webdataset",
            "data.clip_seconds=1.0",
            "data.batch_size=4",
            "data.num_workers=2",
            *overrides,
        ]
    )
    cfg.data.urls = urls if isinstance(urls, list) else str(urls)  # braces: no override parsing
    return instantiate(
        cfg.data, tokenizer=None, bad_items_path=tmp_path / "bad_items.jsonl", seed=seed
    )


def epoch(loader) -> list[list[int]]:
    return [batch["index"].tolist() for batch in loader]


def test_an_epoch_gives_every_item_once_across_two_workers(shards, tmp_path):
    loader = datamodule(tmp_path, urls=shards).train_dataloader()
    first, second = epoch(loader), epoch(loader)
    assert len(loader) == len(first) == TRAIN // 4
    for batches in (first, second):
        assert all(len(b) == 4 for b in batches)
        assert sorted(sum(batches, [])) == list(range(TRAIN))
    assert first != second  # each epoch its own shard order and shuffle


def test_items_carry_a_crop_at_the_data_rate_and_a_caption_of_the_track(shards, tmp_path):
    batch = next(iter(datamodule(tmp_path, urls=shards).train_dataloader()))
    assert batch["audio"].shape == (4, 16000)
    assert all(c.startswith("a ") and c.endswith(" tone") for c in batch["caption"])
    assert batch["audio"].abs().max() > 0.1


def test_the_shuffle_buffer_changes_the_order_not_the_items(shards, tmp_path):
    plain = datamodule(tmp_path, "data.shuffle_buffer=0", "data.num_workers=0", urls=shards)
    mixed = datamodule(tmp_path, "data.shuffle_buffer=40", "data.num_workers=0", urls=shards)
    plain_ids, mixed_ids = (
        sum(epoch(plain.train_dataloader()), []),
        sum(epoch(mixed.train_dataloader()), []),
    )
    assert sorted(plain_ids) == sorted(mixed_ids) == list(range(TRAIN))
    assert plain_ids != mixed_ids
    # Without a buffer each shard's 10 items come in a run, in the order written.
    assert all(len(set(plain_ids[i : i + 10])) == 10 for i in range(0, TRAIN, 10))


@pytest.mark.parametrize("length", [24, 80])
def test_the_epoch_length_is_honoured(shards, tmp_path, length):
    loader = datamodule(tmp_path, f"data.epoch_length={length}", urls=shards).train_dataloader()
    ids = sum(epoch(loader), [])
    assert len(ids) == len(loader) * 4 == length
    counts = Counter(ids)
    assert max(counts.values()) == (1 if length < TRAIN else 2)


def test_resuming_mid_epoch_gives_the_batches_the_whole_epoch_would_have(shards, tmp_path):
    whole = datamodule(tmp_path, urls=shards)
    loader = whole.train_dataloader()
    epoch(loader)
    uninterrupted = epoch(loader)  # epoch 1
    resumed = datamodule(tmp_path, urls=shards)
    resumed.load_state_dict({"seed": 0, "epoch": 1, "batch": 3})
    loader = resumed.train_dataloader()
    assert epoch(loader) == uninterrupted[3:]
    assert len(epoch(loader)) == len(uninterrupted)  # the next epoch is whole again


def test_a_corrupt_sample_is_reported_by_shard_and_key_and_skipped(shards, tmp_path):
    if not (shards / "train-000001.tar").exists():
        pytest.skip("no shard to corrupt")
    urls = sorted(str(p) for p in shards.glob("train-*.tar"))
    bad_shard = tmp_path / "train-000001.tar"
    member = "flac" if "flac" in shards.parent.name else "npy"
    rewrite_member(shards / "train-000001.tar", bad_shard, "00000012", member, b"garbage")
    urls[1] = str(bad_shard)
    dm = datamodule(tmp_path, "data.num_workers=0", f"data.epoch_length={TRAIN}", urls=urls)
    ids = sum(epoch(dm.train_dataloader()), [])
    assert 12 not in ids and sorted(ids) == [i for i in range(TRAIN) if i != 12]
    (record,) = BadItemLog(tmp_path / "bad_items.jsonl").read()
    assert record["file"] == str(bad_shard) and record["entry"] == "00000012"
    assert f"{bad_shard} entry 00000012" in record["error"] and "cannot decode" in record["error"]


def test_a_missing_shard_is_named(shards, tmp_path):
    dm = datamodule(tmp_path, urls=f"{shards}/train-{{000000..000004}}.tar")
    with pytest.raises(DatasetError, match=r"data.urls: 1 of 5 shards not found.*train-000004"):
        dm.setup("fit")


def test_a_manifest_naming_a_shard_outside_its_folder_is_refused(shards, tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    manifest = json.loads((shards / "manifest.json").read_text())
    manifest["splits"]["train"]["shards"] = [str(shards / "train-000000.tar"), "../x.tar"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    dm = datamodule(tmp_path, f"data.val_urls={shards}", urls=folder)
    with pytest.raises(DatasetError, match=r"manifest.json: shard .* refused.*absolute"):
        dm.setup("fit")


def test_without_a_manifest_the_epoch_length_must_be_given(shards, tmp_path):
    (tmp_path / "s").mkdir()
    for path in shards.glob("train-*.tar"):
        (tmp_path / "s" / path.name).symlink_to(path)
    dm = datamodule(
        tmp_path, f"data.val_urls={shards}", urls=f"{tmp_path}/s/train-{{000000..000003}}.tar"
    )
    with pytest.raises(DatasetError, match="data.epoch_length"):
        dm.train_dataloader()


@pytest.mark.parametrize("crop", ["centre", "windows"])
def test_validation_reads_the_val_shards_once_with_every_caption(shards, tmp_path, crop):
    dm = datamodule(tmp_path, f"data.eval_crop={crop}", "data.eval_hop_seconds=0.5", urls=shards)
    batches = list(dm.val_dataloader())
    assert sorted(sum((b["index"].tolist() for b in batches), [])) == list(range(VAL))
    entries = json.loads((shards.parent / "tiny" / "tiny_val.json").read_text())
    captions = sorted(c for b in batches for cs in b["captions"] for c in cs)
    assert captions == sorted(e["caption"] for e in entries)
    if crop == "windows":  # 1.5 s tracks, 1 s windows 0.5 s apart: 2 windows each
        assert all(len(b["audio"]) == 2 * len(b["index"]) for b in batches)
        assert "window_owner" in batches[0]
    else:
        assert batches[0]["audio"].shape[1:] == (16000,)


def test_fewer_val_shards_than_workers_still_share_the_validation(shards, tmp_path):
    val = sorted(shards.glob("val-*.tar"))
    assert len(val) == 1  # two workers, one shard
    dm = datamodule(tmp_path, f"data.val_urls={val[0]}", "data.eval_batch_size=64", urls=shards)
    batches = [b["index"].tolist() for b in dm.val_dataloader()]
    assert len(batches) == 2 and all(len(b) == VAL // 2 for b in batches)  # one per worker
    assert sorted(sum(batches, [])) == list(range(VAL))


def test_pipe_urls_stream_what_the_command_writes(shards, tmp_path):
    """`pipe:` URLs (object stores: `pipe:aws s3 cp ... -`), here with cat as the command."""
    urls = [f"pipe:cat {path}" for path in sorted(shards.glob("train-*.tar"))]
    dm = datamodule(tmp_path, f"data.val_urls={shards}", f"data.epoch_length={TRAIN}", urls=urls)
    batches = epoch(dm.train_dataloader())
    assert sorted(sum(batches, [])) == list(range(TRAIN))


def test_a_failing_pipe_is_reported_and_the_other_shards_go_on(shards, tmp_path):
    paths = sorted(shards.glob("train-*.tar"))
    urls = [f"pipe:cat {path}" for path in paths] + [f"pipe:cat {tmp_path}/gone.tar"]
    dm = datamodule(
        tmp_path, f"data.val_urls={shards}", f"data.epoch_length={TRAIN // 2}", urls=urls
    )
    loader = dm.train_dataloader()
    batches = epoch(loader)
    assert len(batches) == len(loader) > 0 and all(len(b) == 4 for b in batches)
    records = [json.loads(line) for line in (tmp_path / "bad_items.jsonl").read_text().splitlines()]
    assert any("gone.tar" in record["file"] for record in records)
