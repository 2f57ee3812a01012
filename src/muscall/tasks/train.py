"""task=train: fit, keep the best checkpoint, then evaluate it as task=retrieval/zeroshot would."""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import DictConfig
from pytorch_lightning.utilities.exceptions import SIGTERMException

from muscall.checkpoint import checkpoint_metadata
from muscall.data import caption_lengths
from muscall.data.leakage import warn_on_leakage
from muscall.data.zeroshot_sets import ZeroShotSets
from muscall.lightning.callbacks.last_checkpoint import LastCheckpoint
from muscall.report import format_table, write_metrics
from muscall.runs import assembly, evaluation
from muscall.runs.assembly import build_datamodule, build_net, follow_audio_rate, start_run
from muscall.runs.loggers import build_loggers, finish_loggers
from muscall.runs.resume import prepare_resume, resume_command
from muscall.synth.builtin import ensure_builtin_dataset

log = logging.getLogger(__name__)

# The exit status after SIGTERM has stopped training and its checkpoint is saved: what a shell
# reports for a process ended by SIGTERM (128 + 15), so `train && next-step` does not go on.
STOPPED_BY_SIGTERM = 143


def run(cfg: DictConfig) -> dict[str, float]:
    """Fit, then evaluate the best checkpoint; under DDP every rank runs this, in one folder.

    Ranks other than the first fit alongside it and return the fit's metrics: the evaluation
    after fit, metrics.json and the printed table are the first rank's alone.
    """
    # Rendering first: whatever it draws must not shift the seeded run that follows. Ranks
    # started together wait on the dataset's lock while one renders (muscall.synth.builtin).
    ensure_builtin_dataset(cfg.data.root, cfg.data.get("generate"))
    prepare_resume(cfg)  # before the run folder is chosen: a resumed run writes into its own
    out = start_run(cfg)
    module = _build_module(cfg, out)
    sets = ZeroShotSets.from_config(cfg.zeroshot)
    datamodule = build_datamodule(cfg.data, module.net.tokenizer, out, seed=cfg.get("seed"))
    if cfg.task.check_leakage:
        warn_on_leakage(datamodule, sets)
    captions = _report_captions(cfg, datamodule, module.net.tokenizer, out)
    loggers = build_loggers(cfg)
    try:
        trainer = assembly.build_trainer(cfg, loggers)
        _fit(trainer, module, datamodule, cfg.get("ckpt_path"))
        metrics = _fit_metrics(trainer)
        best = _selected_checkpoint(trainer, out)  # every rank: saving may be collective
        after_fit = {}
        if trainer.is_global_zero:  # alone: with its own DataModule, the whole test split
            after_fit = _evaluate_after_fit(cfg, best, sets, datamodule)
        for logger in loggers:
            logger.log_metrics(after_fit, step=trainer.global_step)
    except BaseException:
        finish_loggers(loggers, "failed")
        raise
    finish_loggers(loggers, "success")
    metrics.update(after_fit)
    metrics.update(captions)
    metrics["best_checkpoint"] = str(best)
    if trainer.is_global_zero:
        write_metrics(metrics, out)
        print(format_table(metrics, f"task=train -> {out}"))
    return metrics


def _fit(trainer, module, datamodule, ckpt_path: str | None) -> None:
    """trainer.fit; SIGTERM ends the process (STOPPED_BY_SIGTERM) once a checkpoint is saved."""
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
    except SIGTERMException:
        saved = [c.stopped_at for c in trainer.callbacks if isinstance(c, LastCheckpoint)]
        where = f"saved {saved[0]}" if saved and saved[0] else "no checkpoint saved"
        log.warning(
            "stopped by SIGTERM at epoch %d step %d (%s); resume with: %s",
            trainer.current_epoch,
            trainer.global_step,
            where,
            resume_command(),
        )
        raise SystemExit(STOPPED_BY_SIGTERM) from None


def _report_captions(cfg: DictConfig, datamodule, tokenizer, out: Path) -> dict[str, float]:
    """Each split's caption lengths against the tokenizer's limit: logged, saved, in metrics."""
    if not assembly.first_process():
        return {}
    splits = caption_lengths.datamodule_captions(datamodule)
    found = caption_lengths.report(splits, tokenizer, cfg.captions.warn_truncated)
    caption_lengths.save(found, tokenizer, out)
    return caption_lengths.as_metrics(found)


def _build_module(cfg: DictConfig, out: Path):
    net = build_net(cfg.model.net)
    follow_audio_rate(cfg, net.frontend.sample_rate, out)
    loss = instantiate(cfg.loss.criterion)
    weighting = instantiate(cfg.loss.weighting) if cfg.loss.get("weighting") else None
    # The metadata makes every checkpoint loadable and evaluable from its path alone.
    metadata = checkpoint_metadata(cfg)
    return instantiate(cfg.model, net=net, loss=loss, weighting=weighting, metadata=metadata)


def _selected_checkpoint(trainer, out: Path) -> Path:
    """The best checkpoint; without one (e.g. fast_dev_run), the final weights, saved now."""
    callback = trainer.checkpoint_callback
    if callback is not None and callback.best_model_path:
        return Path(callback.best_model_path)
    final = out / "checkpoints" / "final.ckpt"
    log.warning("no best checkpoint was kept: evaluating the final weights, saved as %s", final)
    trainer.save_checkpoint(final)
    return final


def _evaluate_after_fit(cfg: DictConfig, best: Path, sets: ZeroShotSets, datamodule) -> dict:
    """Test retrieval and zero-shot metrics of the selected checkpoint, by the tasks' code."""
    test = cfg.task.test_after_fit and datamodule.has_split("test")
    if cfg.task.test_after_fit and not test:
        log.warning(
            "no test split in %s: test metrics skipped", datamodule.root or "data.root (unset)"
        )
    sets = sets if cfg.task.zeroshot_after_fit else ZeroShotSets()
    if not test and not sets:
        return {}
    opened = evaluation.open_checkpoint(cfg, best, sets)
    plots = evaluation.plots_folder(cfg)
    metrics = {}
    if test:
        test_metrics = evaluation.retrieval(opened, "test", plots)
        metrics.update({f"test/{k}": v for k, v in test_metrics.items()})
    if sets:
        metrics.update(evaluation.zeroshot(opened, plots))
    return metrics


def _fit_metrics(trainer) -> dict[str, float]:
    callback = trainer.checkpoint_callback
    metrics = {}
    if callback is not None and callback.best_model_score is not None:
        metrics[callback.monitor] = float(callback.best_model_score)
    metrics["epochs"] = float(trainer.current_epoch)
    metrics["steps"] = float(trainer.global_step)
    return metrics
