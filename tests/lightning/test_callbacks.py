import random

import numpy as np
import torch

from muscall.lightning.callbacks import RNGStateCallback


def test_rng_state_round_trip_replays_the_same_draws():
    callback = RNGStateCallback()
    torch.manual_seed(1)
    state = callback.state_dict()
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    callback.load_state_dict(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
