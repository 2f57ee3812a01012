"""The built-in dataset teaches a small model for real (slow: about a minute on 2 cores)."""

import pytest

from muscall.config import compose_config
from muscall.tasks import train


@pytest.mark.slow
def test_cpu_model_learns_the_builtin_dataset(tmp_path):
    root = tmp_path / "synthmusic"
    overrides = [
        "experiment=cpu_demo",
        f"data.root={root}",
        f"data.generate.root={root}",
        "data.generate.num_clips=600",
        "data.generate.test_fraction=0.2",
        "data.generate.clip_seconds=6.0",
        "trainer.max_epochs=20",
        "trainer.enable_progress_bar=false",
    ]
    metrics = train.run(compose_config(overrides, tmp_path / "run"))
    chance_r10 = 100 * 10 / metrics["test/num_tracks"]
    assert metrics["test/text_to_audio_R@10"] >= 4 * chance_r10
    assert metrics["zeroshot/genre/accuracy"] >= 2 * 10.0  # ten genres
