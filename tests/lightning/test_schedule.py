import math

import pytest
from pytorch_lightning.callbacks import Timer

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


class FakeClock(Timer):
    """Lightning's Timer with a hand-set clock: the share of the budget used is `share`."""

    def __init__(self):
        super().__init__(duration="00:00:10:00")
        self.share = 0.0

    def time_elapsed(self, stage="train") -> float:
        return 600.0 * self.share

    def time_remaining(self, stage="train") -> float:
        return 600.0 * (1.0 - self.share)


def test_the_module_schedule_follows_lightnings_timer_when_max_time_is_set():
    from hydra.utils import instantiate

    from muscall.config import compose_config
    from muscall.losses import InfoNCE

    cfg = compose_config(["model=tiny"]).model
    module = instantiate(cfg, loss=InfoNCE(), metadata={})
    clock = FakeClock()
    # 10,000 epochs' worth of steps: by steps alone the warm-up would take hours.
    module.trainer = type(
        "T", (), {"estimated_stepping_batches": 1_000_000, "callbacks": [clock]}
    )()
    setup = module.configure_optimizers()
    optimizer, scheduler = setup["optimizer"], setup["lr_scheduler"]["scheduler"]
    base = cfg.optimizer.lr

    def lr_after_a_step_at(share):
        clock.share = share
        optimizer.step()
        scheduler.step()
        return optimizer.param_groups[0]["lr"]

    assert lr_after_a_step_at(0.025) == pytest.approx(0.5 * base, rel=0.01)  # mid warm-up
    assert lr_after_a_step_at(0.05) == pytest.approx(base, rel=0.01)  # warmed up
    assert lr_after_a_step_at(0.525) == pytest.approx(0.5 * base, rel=0.01)  # half decayed
    assert lr_after_a_step_at(1.0) == pytest.approx(0.0, abs=1e-12)  # budget spent: floor
    module.trainer = type("T", (), {"estimated_stepping_batches": 100, "callbacks": []})()
    no_clock = module.configure_optimizers()["optimizer"].param_groups[0]["lr"]
    assert no_clock == pytest.approx(base / 5)  # no budget: step 0 of a 5-step warm-up
