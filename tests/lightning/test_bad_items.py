"""Training over bad items: skipped and counted, never killing the run; or failing by choice."""

import csv
import json

import pytest

from muscall.config import compose_config
from muscall.data.bad_items import BadItemError
from muscall.tasks import train
from tests.helpers.bad_entries import EXPECTED, assert_reported, write_bad_dataset


def _overrides(dataset, *extra):
    return [
        "model=tiny",
        "trainer=cpu",
        "data=folder",
        f"data.root={dataset}",
        "data.clip_seconds=1.0",
        "data.num_workers=0",
        "trainer.max_epochs=1",
        "trainer.enable_progress_bar=false",
        "task.test_after_fit=false",
        "task.zeroshot_after_fit=false",
        "task.check_leakage=false",
        *extra,
    ]


@pytest.fixture(scope="module")
def bad_dataset(tmp_path_factory):
    dataset = write_bad_dataset(tmp_path_factory.mktemp("bad") / "tiny")
    # The first validation batch (2 items) is all bad too.
    val = dataset / "tiny_val.json"
    missing = [
        {"audio_id": f"gone{i}", "caption": "a tone", "audio_path": f"audio/gone{i}.npy"}
        for i in range(2)
    ]
    val.write_text(json.dumps(missing + json.loads(val.read_text())))
    return dataset


def test_bad_items_are_skipped_counted_and_listed(bad_dataset, tmp_path, capsys):
    # 8 good + 14 bad audio files in batches of 2: at least 3 batches hold only bad items.
    out = tmp_path / "run"
    cfg = compose_config(
        _overrides(bad_dataset, "data.batch_size=2", "data.eval_batch_size=2", "logger=csv"), out
    )
    metrics = train.run(cfg)
    assert 0 < metrics["steps"] <= 8  # all-bad batches make no step, and stop nothing
    records = [json.loads(line) for line in (out / "bad_items.jsonl").read_text().splitlines()]
    assert_reported(records)
    assert {"gone0", "gone1"} <= {r.get("audio_id") for r in records}
    total = len(EXPECTED) + 2
    summary = next(line for line in capsys.readouterr().out.splitlines() if "bad items" in line)
    assert summary.startswith(f"{total} bad items skipped (")
    assert "undecodable 4, " in summary and "missing 3, " in summary  # 1 train + 2 val
    assert summary.endswith(f"listed in {out / 'bad_items.jsonl'}")
    rows = list(csv.DictReader((out / "csv" / "version_0" / "metrics.csv").open()))
    logged = [float(r["train/bad_items"]) for r in rows if r.get("train/bad_items")]
    assert logged == [total]


def test_on_bad_item_fail_stops_the_run_with_the_message(bad_dataset, tmp_path):
    cfg = compose_config(_overrides(bad_dataset, "data.on_bad_item=fail"), tmp_path / "run")
    with pytest.raises(BadItemError) as info:
        train.run(cfg)
    message = str(info.value)
    assert "tiny_train.json entry" in message and "(audio_id 'empty_caption')" in message
    assert "empty caption" in message and "data.on_bad_item=fail" in message
