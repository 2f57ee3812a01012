"""The jobs of a sweep (`-m`): the value each hands the sweeper; a failure recorded, not fatal.

One failed job (bad input, a diverged loss, a batch that does not fit) must not end a sweep.
NaN is no way to say so: hydra-optuna-sweeper 1.3 on Optuna 2.10 then crashes the whole
sweep (it tells Optuna FAIL together with the value), and a raised exception ends the sweep
unless `max_failure_rate` allows it. So a failed job logs its error, writes `failed.json` in
its folder and returns the worst value for the task's direction (-inf when maximising):
Optuna keeps it as a poor trial and its sampler learns to avoid that region.
"""

from __future__ import annotations

import logging
import math
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from muscall.data.json_io import write_json
from muscall.errors import MuscallError

log = logging.getLogger("muscall")
FAILED_FILE = "failed.json"


def in_sweep() -> bool:
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def worst_value(cfg: DictConfig) -> float | None:
    mode = cfg.task.get("optimized_mode")
    return {"max": -math.inf, "min": math.inf}.get(mode)


class SweepRecord:
    """What this process's jobs came to: the basic launcher runs them one after another here."""

    def __init__(self) -> None:
        self.jobs = 0
        self.failed: list[str] = []

    def finished(self, cfg: DictConfig, metrics: Mapping[str, float]) -> float | None:
        """The value of `task.optimized_metric`; in a sweep, the worst one when it is missing."""
        self.jobs += 1
        metric = cfg.task.get("optimized_metric")
        value = metrics.get(metric) if metric else None
        if metric and (value is None or math.isnan(value)) and in_sweep():
            # e.g. debug=fast (fast_dev_run) keeps no best checkpoint, hence no best score
            log.warning("%s: no value in this job's metrics; the sweeper gets the worst", metric)
            return worst_value(cfg)
        return value

    def failed_job(self, cfg: DictConfig, error: Exception) -> float | None:
        """Log `error` and write it to the job's `failed.json`; the sweeper gets the worst value."""
        self.jobs += 1
        hydra = HydraConfig.get()
        out = Path(hydra.runtime.output_dir)
        known = isinstance(error, MuscallError)
        log.error("job %s failed: %s", hydra.job.num, error, exc_info=None if known else error)
        report = {
            "error": type(error).__name__,
            "message": str(error),
            "overrides": list(hydra.overrides.task),
        }
        if not known:  # a bug or the machine (out of memory, ...): the trace says where
            report["traceback"] = "".join(traceback.format_exception(error))
        write_json(out / FAILED_FILE, report)
        self.failed.append(str(out))
        return worst_value(cfg)

    def exit_status(self) -> int:
        """0, or 2 when every job failed; failed jobs are listed either way."""
        if not self.failed:
            return 0
        # Printed: after the sweep, logging is Hydra's own again, which writes to stdout.
        folders = "\n  ".join(self.failed)
        print(
            f"{len(self.failed)} of {self.jobs} jobs failed ({FAILED_FILE} in each):\n  {folders}",
            file=sys.stderr,
        )
        return 2 if len(self.failed) == self.jobs else 0
