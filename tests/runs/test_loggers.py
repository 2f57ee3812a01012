"""Loggers of a training run: under several processes, only the first saves the wandb run id."""

from __future__ import annotations

import pytest

from muscall.config import compose_config
from muscall.runs import loggers


class _Recorder:
    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def log_hyperparams(self, params) -> None:
        pass


@pytest.mark.parametrize(("rank_variable", "first"), [(None, True), ("LOCAL_RANK", False)])
def test_only_the_first_process_makes_the_wandb_run_id(tmp_path, monkeypatch, rank_variable, first):
    for name in ("RANK", "SLURM_PROCID", "LOCAL_RANK", "NODE_RANK"):
        monkeypatch.delenv(name, raising=False)
    if rank_variable:
        monkeypatch.setenv(rank_variable, "1")
    monkeypatch.setattr(loggers, "instantiate", lambda cfg, **kwargs: _Recorder(**kwargs))
    cfg = compose_config(["logger=wandb", f"paths.output_dir={tmp_path}"])
    (logger,) = loggers.build_loggers(cfg)
    saved = tmp_path / loggers.WANDB_ID_FILE
    assert saved.is_file() == first
    if first:
        assert logger.kwargs["id"] == saved.read_text().strip()
    else:  # rank 1 never logs to wandb (Lightning); a file of its own would race rank 0's
        assert logger.kwargs["id"] is None
