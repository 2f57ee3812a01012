"""task=shard then task=train data=webdataset: a small run streamed from shards, end to end."""

from __future__ import annotations

import math

from muscall.config import compose_config
from tests.helpers.datasets import MANY_WORDS, write_tiny_dataset
from tests.helpers.shards import shard_folder


def test_training_streams_from_shards_and_validates_on_val_shards(tmp_path):
    from muscall.tasks import train

    # 24 val tracks of 24 words: retrieval neither saturated nor tied.
    data = write_tiny_dataset(tmp_path / "tiny", counts=(40, 24, 8), words=MANY_WORDS)
    shards = shard_folder(data, "npy")
    overrides = [
        "model=tiny",
        "trainer=cpu",
        "data=webdataset",
        f"data.urls={shards}",
        f"data.val_urls={shards}",  # val from shards; data.root serves the test split
        f"data.root={data}",
        "data.clip_seconds=1.0",
        "data.batch_size=4",
        "data.num_workers=2",
        "trainer.max_epochs=1",
        "trainer.enable_progress_bar=false",
        "task.zeroshot_after_fit=false",
        "plots.enabled=false",
        "seed=0",
    ]
    metrics = train.run(compose_config(overrides, tmp_path / "run"))
    assert metrics["steps"] == 40 // (4 * 2) * 2  # 5 batches from each of 2 workers
    assert 0 < metrics["val/text_to_audio_R@10"] <= 100
    assert any(key.startswith("test/") for key in metrics)
    assert all(math.isfinite(v) for k, v in metrics.items() if k != "best_checkpoint")
