"""Resuming task=train: `ckpt_path=last`, and the run folder that a resumed run writes into.

A run folder is where `start_run` saved `config.yaml`; its resume points are
`checkpoints/last.ckpt` (every epoch, every N steps, on SIGTERM) and, under SLURM,
`hpc_ckpt_<n>.ckpt` (Lightning's save before a requeue). A run resumed from a checkpoint in
a run folder writes into that folder: checkpoints, metrics, plots and the wandb run go on
there, while Hydra's new folder for the process holds only its .hydra/ and run.log.
"""

from __future__ import annotations

import logging
import os
import shlex
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, open_dict

from muscall.errors import MuscallError

log = logging.getLogger(__name__)

LAST = "last"


def prepare_resume(cfg: DictConfig) -> Path | None:
    """Resolve `ckpt_path` (`last` included) and point the run at the folder it came from."""
    if not cfg.get("ckpt_path"):
        return None
    if cfg.ckpt_path == LAST:
        checkpoint = latest_checkpoint(cfg)
        log.info("ckpt_path=last: resuming from %s", checkpoint)
    else:
        checkpoint = Path(cfg.ckpt_path).expanduser().resolve()
        if not checkpoint.is_file():
            raise MuscallError(f"ckpt_path={cfg.ckpt_path}: no such checkpoint")
    run = run_folder(checkpoint)
    with open_dict(cfg):
        cfg.ckpt_path = str(checkpoint)
        if run is not None:
            log.info("resuming in %s", run)
            cfg.paths.output_dir = str(run)
        else:
            _checkpoints_beside(cfg, checkpoint.parent)
    return checkpoint


def run_folder(checkpoint: Path) -> Path | None:
    """The run folder holding `checkpoint`, or None for a checkpoint kept elsewhere."""
    if checkpoint.parent.name == "checkpoints":
        run = checkpoint.parent.parent
    elif checkpoint.name.startswith("hpc_ckpt_"):
        run = checkpoint.parent
    else:
        return None
    return run if (run / "config.yaml").is_file() else None


def resume_points(run: Path) -> list[Path]:
    points = [run / "checkpoints" / "last.ckpt", *run.glob("hpc_ckpt_*.ckpt")]
    return [point for point in points if point.is_file()]


def latest_checkpoint(cfg: DictConfig) -> Path:
    """The newest resume point of the earlier runs of this command (ckpt_path aside)."""
    overrides = command_overrides()
    if overrides is None:
        raise MuscallError(
            "ckpt_path=last looks for an earlier run of the same command line "
            "(python src/run.py ...); here there is none: give ckpt_path=PATH"
        )
    root = Path(cfg.paths.log_dir) / cfg.task.name
    this_run = OmegaConf.select(HydraConfig.get(), "runtime.output_dir", default=None)
    points = [
        point
        for run in _hydra_runs(root)
        if str(run) != this_run and _saved_overrides(run) == overrides
        for point in resume_points(run)
    ]
    if not points:
        raise MuscallError(
            f"ckpt_path=last: no earlier run of this command to resume under {root}; "
            "give ckpt_path=PATH"
        )
    return max(points, key=lambda point: point.stat().st_mtime_ns).resolve()


def command_overrides() -> list[str] | None:
    """This command's overrides, sorted, `ckpt_path` left out; None outside `src/run.py`."""
    if not HydraConfig.initialized():
        return None
    return _comparable(HydraConfig.get().overrides.task)


def resume_command() -> str:
    """The command line that resumes this run: its overrides plus `ckpt_path=last`."""
    if not HydraConfig.initialized():
        return "the same command with ckpt_path=<the checkpoint above>"
    overrides = [o for o in HydraConfig.get().overrides.task if not _is_ckpt_path(o)]
    return shlex.join(["python", "src/run.py", *overrides, f"ckpt_path={LAST}"])


def _hydra_runs(root: Path, depth: int = 5) -> list[Path]:
    """Folders under `root` that Hydra ran a job in (they hold `.hydra/`), a few levels down."""
    runs = []
    for folder, subfolders, _ in os.walk(root):
        if ".hydra" in subfolders:
            runs.append(Path(folder))
            subfolders.clear()  # a run's own folders (wandb, plots, ...) hold no runs
        elif len(Path(folder).relative_to(root).parts) >= depth:
            subfolders.clear()
    return runs


def _saved_overrides(run: Path) -> list[str] | None:
    try:
        return _comparable(OmegaConf.load(run / ".hydra" / "overrides.yaml"))
    except (OSError, ValueError):  # a run killed before Hydra wrote it, or a broken file
        return None


def _comparable(overrides) -> list[str]:
    return sorted(str(o) for o in overrides if not _is_ckpt_path(str(o)))


def _is_ckpt_path(override: str) -> bool:
    return override.lstrip("+~").split("=", 1)[0] == "ckpt_path"


def _checkpoints_beside(cfg: DictConfig, folder: Path) -> None:
    """Outside a run folder, keep writing checkpoints beside the one resumed from.

    Lightning restores the best score and best path only when the checkpoint folder is
    unchanged; a resumed run would otherwise forget them and could keep a worse "best".
    """
    for callback in (cfg.get("callbacks") or {}).values():
        if "Checkpoint" in callback.get("_target_", ""):
            callback.dirpath = str(folder)
