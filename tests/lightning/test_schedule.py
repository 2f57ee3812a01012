import math

from muscall.lightning.schedule import warmup_cosine


def test_warmup_then_a_single_cosine_decay():
    factor = warmup_cosine(total_steps=100, warmup_steps=10, min_lr_ratio=0.1)
    values = [factor(s) for s in range(100)]
    assert values[0] == 0.1 and values[9] == 1.0  # linear warm-up reaches the base LR
    decay = values[10:]
    assert all(a >= b for a, b in zip(decay, decay[1:], strict=False))  # never cycles back up
    assert math.isclose(values[55], 0.1 + 0.9 * 0.5, rel_tol=1e-9)  # half-way: mid-point
    assert factor(100) == factor(10_000) == 0.1


def test_degenerate_lengths_do_not_divide_by_zero():
    assert warmup_cosine(1, 5, 0.0)(0) == 1.0
    assert warmup_cosine(0, 0, 0.0)(0) == 1.0


def test_a_time_budget_advances_the_schedule_when_time_runs_faster_than_steps():
    from muscall.lightning.schedule import within_budget

    base = warmup_cosine(total_steps=1000, warmup_steps=50, min_lr_ratio=0.0)
    used = {"share": 0.0}
    timed = within_budget(base, 1000, lambda: used["share"])
    assert timed(10) == base(10)  # no time used yet: the step schedule
    used["share"] = 0.5
    assert timed(10) == base(500)  # half the budget gone after 10 steps: half-way decayed
    assert timed(800) == base(800)  # steps ahead of time: the step schedule
    used["share"] = 1.5  # over budget (the last step): the floor, never beyond
    assert timed(10) == base(1000) == 0.0


def test_a_run_stopped_by_max_time_ends_its_decay(tmp_path):
    import csv

    from muscall.config import compose_config
    from muscall.tasks import train

    from ..conftest import write_tiny_dataset

    data = write_tiny_dataset(tmp_path / "tiny", counts=(16, 4, 4))
    overrides = [
        "model=tiny",
        "trainer=cpu",
        "data=folder",
        f"data.root={data}",
        "data.clip_seconds=1.0",
        "data.batch_size=4",
        "data.num_workers=0",
        "trainer.max_epochs=10000",  # the step schedule alone would barely have started
        "trainer.max_time=00:00:00:08",
        "trainer.enable_progress_bar=false",
        "task.test_after_fit=false",
        "task.zeroshot_after_fit=false",
        "plots.enabled=false",
    ]
    train.run(compose_config(overrides, tmp_path / "run"))
    with (tmp_path / "run" / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 2
    lrs = [float(row["train/lr"]) for row in rows]
    assert lrs[-1] < 0.35 * max(lrs)  # the last epoch ran in the last part of the budget
    peak = lrs.index(max(lrs))
    assert lrs[peak:] == sorted(lrs[peak:], reverse=True)  # one decay after the warm-up
