"""The accumulate_grad_batches warning counts the negatives a pair really has per step."""

from muscall.lightning.accumulation import accumulation_warning


def test_one_micro_batch_per_step_says_nothing():
    assert accumulation_warning(1, 1, 256) is None
    assert accumulation_warning(1, 4, None) is None


def test_the_negatives_per_step_and_the_settings_that_give_them_all():
    message = accumulation_warning(16, 1, 16)
    assert "each optimizer step's 256 pairs" in message
    assert "15 negatives, not 255" in message
    assert "data.batch_size=256 model.grad_cache_chunk=16 trainer.accumulate_grad_batches=1" in (
        message
    )


def test_under_ddp_a_micro_batch_is_every_devices_share():
    message = accumulation_warning(4, 2, 8)  # 2 devices x 8 pairs, 4 micro-batches
    assert "64 pairs are contrasted in 4 groups of 16" in message
    assert "15 negatives, not 63" in message


def test_without_a_known_batch_size_the_key_is_named():
    message = accumulation_warning(2, 2, None)
    assert "data.batch_size x devices" in message and "model.grad_cache_chunk" in message
