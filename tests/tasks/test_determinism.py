"""Two CPU runs with the same seed and the same number of workers give the same numbers."""

from __future__ import annotations

from muscall.config import compose_config
from muscall.tasks import train
from tests.helpers.datasets import tiny_run, write_tiny_dataset


def _train(data, out, seed):
    # Random crops drawn in two worker processes.
    overrides = tiny_run(
        data, "trainer.max_epochs=1", "task.zeroshot_after_fit=false", f"seed={seed}", workers=2
    )
    return train.run(compose_config(overrides, out))


def test_same_seed_and_workers_give_identical_metrics_another_seed_does_not(tmp_path):
    data = write_tiny_dataset(tmp_path / "tiny", counts=(12, 8, 8), seconds=2.0)
    first = _train(data, tmp_path / "a", seed=3)
    second = _train(data, tmp_path / "b", seed=3)
    _train(data, tmp_path / "c", seed=4)
    numbers = [k for k, v in first.items() if isinstance(v, float)]
    assert {k: first[k] for k in numbers} == {k: second[k] for k in numbers}
    # Every logged value of every epoch too: training loss, temperature, validation metrics.
    history = [(tmp_path / run / "metrics.csv").read_text() for run in ("a", "b", "c")]
    assert "train/loss" in history[0].splitlines()[0]
    assert history[0] == history[1] != history[2]
