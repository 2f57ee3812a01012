from types import SimpleNamespace

import pytest
import torch

from muscall.errors import MuscallError
from muscall.lightning.callbacks.divergence import DivergenceError, StopOnDivergence

TRAINER = SimpleNamespace(current_epoch=2, global_step=17)


@pytest.mark.parametrize("loss", [float("nan"), float("inf"), -float("inf")])
def test_a_non_finite_loss_stops_the_run_naming_where_and_what_to_try(loss):
    with pytest.raises(
        DivergenceError, match=r"epoch 2, step 17 \(batch 5\); lower model.optimizer.lr"
    ):
        StopOnDivergence().on_train_batch_end(TRAINER, None, {"loss": torch.tensor(loss)}, None, 5)
    assert issubclass(DivergenceError, MuscallError)  # one line, no traceback; a failed sweep job


def test_a_finite_loss_or_a_skipped_batch_goes_on():
    callback = StopOnDivergence()
    callback.on_train_batch_end(TRAINER, None, {"loss": torch.tensor(2.5)}, None, 0)
    callback.on_train_batch_end(TRAINER, None, torch.tensor(1e30), None, 0)
    callback.on_train_batch_end(TRAINER, None, None, None, 0)  # every item of the batch was bad


def test_checks_wait_for_the_device_once_per_window_and_name_the_first_bad_step():
    callback = StopOnDivergence(check_every_n_steps=4)
    losses = [2.0, float("nan"), 3.0]
    for step, loss in enumerate(losses, start=10):  # three steps: no check yet
        trainer = SimpleNamespace(current_epoch=1, global_step=step)
        callback.on_train_batch_end(trainer, None, {"loss": torch.tensor(loss)}, None, step - 10)
    trainer = SimpleNamespace(current_epoch=1, global_step=13)
    with pytest.raises(DivergenceError, match=r"is nan at epoch 1, step 11 \(batch 1\)"):
        callback.on_train_batch_end(trainer, None, {"loss": torch.tensor(1.0)}, None, 3)


def test_the_epoch_end_checks_what_is_left():
    callback = StopOnDivergence(check_every_n_steps=50)
    callback.on_train_batch_end(TRAINER, None, {"loss": torch.tensor(float("inf"))}, None, 5)
    with pytest.raises(DivergenceError, match=r"step 17 \(batch 5\)"):
        callback.on_train_epoch_end(TRAINER, None)
