import random
from types import SimpleNamespace

import numpy as np
import torch

from muscall.lightning.callbacks.rng_state import RNGStateCallback


def test_rng_state_round_trip_replays_the_same_draws():
    callback = RNGStateCallback()
    torch.manual_seed(1)
    state = callback.state_dict()
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    callback.load_state_dict(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def _draws_after_train_start(rank: int, world_size: int) -> list[float]:
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    trainer = SimpleNamespace(world_size=world_size, global_rank=rank)
    RNGStateCallback().on_train_start(trainer, None)
    return [torch.rand(()).item(), random.random(), float(np.random.rand())]


def test_under_ddp_each_process_draws_its_own_and_reproducibly():
    rank0, rank1 = _draws_after_train_start(0, 2), _draws_after_train_start(1, 2)
    assert all(a != b for a, b in zip(rank0, rank1, strict=True))
    assert _draws_after_train_start(1, 2) == rank1
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    expected = [torch.rand(()).item(), random.random(), float(np.random.rand())]
    assert _draws_after_train_start(0, 1) == expected  # one process: left alone
