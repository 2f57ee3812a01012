"""The one entrypoint: `python src/run.py task=<name> [arguments] [overrides]` (conf/task/)."""

from __future__ import annotations

import logging
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.utils import get_method
from omegaconf import DictConfig

from muscall.config import CONFIG_DIR, go_offline, register_resolvers
from muscall.config_checks import check_config
from muscall.errors import MuscallError
from muscall.sweep import SWEEP, in_sweep
from muscall.task_arguments import upgrade_overrides

log = logging.getLogger("muscall")
go_offline()  # before a task imports transformers, which reads the variables once
register_resolvers()


def run_task(cfg: DictConfig) -> dict[str, float]:
    """Run the task named by `cfg.task` and return its metrics."""
    return get_method(cfg.task.run)(cfg)


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def main(cfg: DictConfig) -> float | None:
    """The value of `task.optimized_metric`, which a sweeper (Optuna, ...) optimises."""
    try:
        overrides = list(HydraConfig.get().overrides.task)
        check_config(cfg, overrides, lambda groups: hydra.compose("config", overrides=groups))
        metrics = run_task(cfg)
    except Exception as error:
        if in_sweep():  # reported, and the sweep goes on to its next job
            return SWEEP.failed_job(cfg, error)
        if not isinstance(error, MuscallError):
            raise
        log.error("%s", error)
        sys.exit(2)
    return SWEEP.finished(cfg, metrics)


if __name__ == "__main__":
    sys.argv[1:] = upgrade_overrides(sys.argv[1:])  # former `task.` spellings, with a notice
    main()
    sys.exit(SWEEP.exit_status())
