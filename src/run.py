"""The one entrypoint: `python src/run.py task=<name> [arguments] [overrides]` (conf/task/)."""

from __future__ import annotations

import importlib
import logging
import sys

try:  # a broken environment is one line, not a linker error from inside torchaudio
    import muscall  # noqa: F401
except ImportError as error:
    if error.name != "muscall":
        raise
    sys.exit(f"error: {error}")

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from muscall.config import CONFIG_DIR, go_offline, register_resolvers
from muscall.config_checks import check_config
from muscall.errors import MuscallError
from muscall.extras import check_overrides
from muscall.runs.sweep import SweepRecord, in_sweep
from muscall.task_arguments import upgrade_overrides

log = logging.getLogger("muscall")
go_offline()  # before a task imports transformers, which reads the variables once
register_resolvers()
# What this process's jobs came to: the basic launcher runs a sweep's jobs one after another.
SWEEP = SweepRecord()


def run_task(cfg: DictConfig) -> dict[str, float]:
    """Run the task named by `cfg.task` and return its metrics."""
    # Imported here rather than by Hydra's get_method, which would wrap a MuscallError raised
    # at import (a missing extra) in a traceback.
    module, _, name = cfg.task.run.rpartition(".")
    return getattr(importlib.import_module(module), name)(cfg)


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
    try:  # Hydra resolves its plugins before main() runs
        check_overrides(sys.argv[1:])
    except MuscallError as error:
        sys.exit(f"error: {error}")
    main()
    sys.exit(SWEEP.exit_status())
