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
