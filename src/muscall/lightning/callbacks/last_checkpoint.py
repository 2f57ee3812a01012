"""`last.ckpt`: the latest point of a run, to resume from after a kill, a crash or SIGTERM."""

from __future__ import annotations

import logging
import os

from lightning_fabric.plugins.environments import SLURMEnvironment
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.utilities.exceptions import SIGTERMException

log = logging.getLogger(__name__)


class LastCheckpoint(ModelCheckpoint):
    """Writes `<dirpath>/last.ckpt` at each epoch's end, every `every_n_train_steps` steps,
    and when SIGTERM stops the run; each save replaces the previous one.

    Under SLURM with auto-requeue, SIGTERM's checkpoint is the next `hpc_ckpt_<n>.ckpt` in
    the run folder instead, the file a requeued job resumes from.
    """

    def __init__(self, dirpath: str, every_n_train_steps: int | None = None):
        super().__init__(
            dirpath=dirpath,
            filename="last",
            monitor=None,
            save_top_k=1,
            every_n_epochs=1,
            enable_version_counter=False,
        )
        # Ours, not ModelCheckpoint's: that one turns the epoch-end saves off.
        self.every_n_train_steps = every_n_train_steps
        self.stopped_at: str | None = None  # the checkpoint SIGTERM left, once it has
        self._held_sigterm = False

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        every = self.every_n_train_steps
        if not every or trainer.global_step % every or self._should_skip_saving_checkpoint(trainer):
            return
        # An epoch's last batch is saved at the epoch's end, after validation: saving it now
        # would stop that save (same step) and leave a point before the epoch's validation.
        if not trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            self._save_none_monitor_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_validation_batch_end(self, trainer, *args, **kwargs) -> None:
        # Lightning stops at the next validation batch on SIGTERM; a checkpoint saved halfway
        # through validation would resume with half of its outputs. Finish it, stop after.
        if trainer.received_sigterm and not trainer.sanity_checking:
            trainer._signal_connector.received_sigterm = False
            self._held_sigterm = True

    def on_validation_end(self, trainer, pl_module) -> None:
        super().on_validation_end(trainer, pl_module)
        if self._held_sigterm:
            trainer._signal_connector.received_sigterm = True
            self._held_sigterm = False

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if not isinstance(exception, SIGTERMException) or trainer.sanity_checking:
            return
        if trainer.validating:  # the signal came between a batch's end and Lightning's check
            log.warning("SIGTERM during validation: no checkpoint saved there")
            return
        path = self._sigterm_path(trainer)
        self._save_checkpoint(trainer, path)
        self.stopped_at = path

    def _sigterm_path(self, trainer) -> str:
        environment = trainer._accelerator_connector.cluster_environment
        if isinstance(environment, SLURMEnvironment) and environment.auto_requeue:
            return trainer._checkpoint_connector.hpc_save_path(trainer.default_root_dir)
        return os.path.join(self.dirpath, self.filename + self.FILE_EXTENSION)
