"""The LightningModule: a dual encoder, a contrastive loss and the retrieval validation."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Mapping
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf
from pytorch_lightning.callbacks import Timer
from torch import nn

import muscall.lightning.distributed as distributed
import muscall.lightning.grad_cache as grad_cache
from muscall.augment import Augmentation
from muscall.evaluate.embed import embed_audio_batch
from muscall.evaluate.retrieval import retrieval_from_captions
from muscall.lightning.accumulation import warn_on_accumulation
from muscall.lightning.schedule import UNBOUNDED_STEPS, warmup_cosine, within_budget
from muscall.losses import NTXent
from muscall.models.hf_bundle import net_files

log = logging.getLogger(__name__)

# Parameters that CLIP-style training keeps out of weight decay.
_NO_DECAY_HINTS = ("bias", "norm", "bn", "logit_scale", "embedding", "pos_")


class MusCALLModule(pl.LightningModule):
    """Trains `net` (a DualEncoder) with `loss` (InfoNCE), optionally content-weighted.

    Training steps only: `augment` transforms each batch, and with `ssl_weight` > 0 a second,
    independently augmented view of every clip adds MusCALL's SimCLR term, mixed as
    (1 - ssl_weight) · audio-text + ssl_weight · NT-Xent. Evaluation sees neither.
    """

    def __init__(
        self,
        net: nn.Module,
        optimizer: functools.partial,
        scheduler: Mapping[str, Any],
        loss: nn.Module | None = None,
        weighting=None,
        eval_chunk_size: int = 1024,
        metadata: Mapping[str, Any] | None = None,
        augment: Augmentation | None = None,
        ssl_weight: float = 0.0,
        ssl_temperature: float = 0.5,
        ssl_projection_dim: int = 128,
        text_lr_scale: float = 1.0,
        audio_lr_scale: float = 1.0,
        compile: bool = False,
        grad_cache_chunk: int | None = None,
    ):
        super().__init__()
        self.net = net
        self.loss_fn = loss
        self.weighting = weighting  # not a submodule: never saved, never trained
        self.augment = augment  # no parameters or buffers: checkpoints never hold it
        self.ssl_weight = float(ssl_weight or 0.0)
        if augment is not None and augment.spec and not getattr(net, "takes_spec_augment", True):
            log.warning(
                "augment.spec (%s) left out: this audio tower takes no log-mel; the waveform "
                "augmentations still apply",
                ", ".join(augment.spec),
            )
        self.ssl_loss_fn, self.ssl_head = self._build_ssl(ssl_temperature, ssl_projection_dim)
        self.optimizer_factory = optimizer
        # A pretrained text tower (model=minilm) often wants a smaller learning rate.
        self.text_lr_scale = float(text_lr_scale)
        # Likewise a pretrained audio tower (model/audio@model.net=musicnn_msd).
        self.audio_lr_scale = float(audio_lr_scale)
        self.scheduler_config = dict(scheduler)
        self.eval_chunk_size = eval_chunk_size
        # muscall.checkpoint's record (network config, preprocessing, ...): in every checkpoint.
        # Plain data (Hydra hands it over as a DictConfig), so checkpoints load with weights_only.
        self.metadata = OmegaConf.to_container(OmegaConf.create(dict(metadata or {})))
        self._net_files = None  # Hugging Face parts' files, gathered at the first save
        self._eval_outputs = _no_eval_outputs()
        self.compile_towers = bool(compile)  # torch.compile each tower in `configure_model`
        self._spans_devices = False  # set in `setup`, once the trainer's processes exist
        # Pairs per chunk of the training step's gradient caching (lightning.grad_cache); None: off.
        self.grad_cache_chunk = grad_cache.chunk_size(grad_cache_chunk)

    def _build_ssl(self, temperature: float, projection_dim: int):
        if not 0.0 <= self.ssl_weight <= 1.0:
            raise ValueError(
                f"model.ssl_weight={self.ssl_weight} must be in [0, 1] (0: no SSL branch; "
                "MusCALL used 0.3)"
            )
        if self.ssl_weight == 0:
            return None, None
        if self.augment is None or not self.augment.active:
            log.warning(
                "model.ssl_weight=%s without augmentation: both views of each clip are the "
                "same crop, so the SSL term teaches nothing; set augment=default",
                self.ssl_weight,
            )
        width = self.net.embed_dim
        # SimCLR's projection head, trained with the network but not part of it.
        head = nn.Sequential(
            nn.Linear(width, width, bias=False),
            nn.ReLU(),
            nn.Linear(width, projection_dim, bias=False),
        )
        return NTXent(temperature), head

    def forward(self, audio: torch.Tensor, tokens: dict) -> tuple[torch.Tensor, ...]:
        return self.net(audio, tokens)

    def configure_model(self) -> None:
        # In place (nn.Module.compile), so parameter names and checkpoints stay as they are;
        # the loss, logging and eval-only code stay eager. Compiling twice is harmless.
        if self.compile_towers:
            self.net.audio_encoder.compile()
            self.net.text_encoder.compile()

    def on_fit_start(self) -> None:
        warn_on_accumulation(self.trainer)
        grad_cache.check_precision(self.grad_cache_chunk, self.trainer.precision)

    def setup(self, stage: str) -> None:
        # With several processes the contrastive batch is the global one (losses.infonce), and
        # evaluation gathers every process's shard before scoring retrieval.
        self._spans_devices = distributed.spans_devices()
        if not self._spans_devices or self.loss_fn is None:
            return
        if not hasattr(self.loss_fn, "gather"):
            raise ValueError(
                f"loss.criterion ({type(self.loss_fn).__name__}) cannot gather embeddings across "
                "devices; multi-device training needs muscall.losses.InfoNCE"
            )
        if self.weighting is not None and not hasattr(self.weighting, "across_devices"):
            raise ValueError(
                f"loss.weighting ({type(self.weighting).__name__}) cannot weigh the global batch; "
                "multi-device training needs muscall.losses.ContentAwareWeighting or null"
            )
        self.loss_fn.gather = distributed.all_gather_with_grad
        self.loss_fn.rank = distributed.rank

    def teardown(self, stage: str) -> None:
        # The process group ends with the trainer: a module used afterwards computes alone.
        if self._spans_devices and self.loss_fn is not None:
            self.loss_fn.gather, self.loss_fn.rank = None, 0
        self._spans_devices = False

    def _encode_view(self, wave: torch.Tensor) -> torch.Tensor:
        """One augmented view of each clip -> audio embeddings (B, E), not yet normalised."""
        if self.augment is None:
            return self.net.encode_audio(wave, normalize=False)
        view = self.augment.augment_wave(wave)
        return self.net.encode_audio(view, normalize=False, spec_augment=self.augment.augment_spec)

    def _loss(self, batch, audio_emb, text_emb, logit_scale) -> torch.Tensor:
        weights = None
        if self.weighting is not None:
            weights = self._weights(batch["caption"], audio_emb)
        return self.loss_fn(audio_emb, text_emb, logit_scale, weights)

    def _weights(self, captions, audio_emb: torch.Tensor) -> torch.Tensor:
        """One weight per pair of the batch the loss scores: the global one when it gathers."""
        # The loss gathers in training mode only: evaluation shards differ in size.
        if self._spans_devices and self.loss_fn.training:
            gather = distributed.all_gather_without_grad
            return self.weighting.across_devices(captions, gather, audio_emb.device)
        return self.weighting(captions).to(audio_emb)

    def _embed(self, batch: dict, rows: slice | None = None) -> tuple[torch.Tensor, ...]:
        """A training step's embeddings of the batch (or its `rows`): audio (not normalised),
        text and, with the SSL branch, a second augmented view of the audio, each (B, E)."""
        audio, tokens = batch["audio"], batch["tokens"]
        if rows is not None:
            audio, tokens = audio[rows], {k: v[rows] for k, v in tokens.items()}
        audio_emb = self._encode_view(audio)
        text_emb = self.net.encode_text(tokens)
        if self.ssl_head is None:
            return audio_emb, text_emb
        # The second view: the same crops, augmented again with fresh draws.
        return audio_emb, text_emb, self._encode_view(audio)

    def _step_loss(self, batch: dict, embeddings: tuple) -> tuple[torch.Tensor, dict]:
        """The training loss of the whole batch's embeddings, and the terms logged with it."""
        audio_emb, text_emb, *other = embeddings
        logit_scale = self.net.logit_scale.exp()
        loss = self._loss(batch, F.normalize(audio_emb, dim=-1), text_emb, logit_scale)
        terms = {"logit_scale": logit_scale}
        if other:
            ssl_loss = self.ssl_loss_fn(self.ssl_head(audio_emb), self.ssl_head(other[0]))
            terms.update(clip_loss=loss, ssl_loss=ssl_loss)
            loss = (1 - self.ssl_weight) * loss + self.ssl_weight * ssl_loss
        return loss, terms

    def _cached_step_loss(self, batch: dict) -> tuple[torch.Tensor, dict]:
        """The same loss, the batch embedded `grad_cache_chunk` pairs at a time."""
        return grad_cache.cached_loss(
            functools.partial(self._embed, batch),
            functools.partial(self._step_loss, batch),
            size=batch["audio"].shape[0],
            chunk=self.grad_cache_chunk,
            params=list(self.parameters()),
            stateful=self,
        )

    def training_step(self, batch: dict | None, batch_idx: int):
        if batch is None:  # every file of the batch was unusable; already reported
            return None
        if self.grad_cache_chunk is None:
            loss, terms = self._step_loss(batch, self._embed(batch))
        else:
            loss, terms = self._cached_step_loss(batch)
        size = batch["audio"].shape[0]
        for name in ("clip_loss", "ssl_loss"):
            if name in terms:
                self.log(f"train/{name}", terms[name], batch_size=size)
        # sync_dist: under DDP each process holds its share of the global loss (local_loss);
        # their mean is the global batch's loss. A no-op with one process.
        self.log("train/loss", loss, prog_bar=self._loss_in_bar(), batch_size=size, sync_dist=True)
        self.log("train/logit_scale", terms["logit_scale"], batch_size=size)
        self.log("train/lr", self.optimizers().param_groups[0]["lr"], batch_size=size)
        return loss

    def _loss_in_bar(self) -> bool:
        # Lightning reads progress-bar values back every step, bar or no bar: on a GPU that
        # read would make each step wait for the device, so there the loggers alone get it.
        return self.device.type == "cpu"

    def on_train_batch_start(self, batch, batch_idx: int) -> None:
        # A tower frozen for its first N steps (unfreeze_after_steps) thaws here.
        for tower in (self.net.audio_encoder, self.net.text_encoder):
            if hasattr(tower, "set_step"):
                tower.set_step(self.global_step)

    def on_train_epoch_start(self) -> None:
        # A tower that unfreezes after N epochs (MusicnnAudioEncoder) follows the epoch count.
        start_epoch = getattr(self.net.audio_encoder, "start_epoch", None)
        if start_epoch is not None:
            start_epoch(self.current_epoch)

    def on_train_batch_end(self, outputs, batch, batch_idx: int) -> None:
        self.net.clamp_logit_scale()

    def validation_step(self, batch: dict | None, batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def _eval_step(self, batch: dict | None, stage: str) -> None:
        if batch is None:
            return
        # The same embedding as every other evaluation path (whole tracks, eval mode).
        audio_emb = embed_audio_batch(self.net, batch["audio"], batch.get("window_owner"))
        text_emb = self.net.encode_text(batch["tokens"])
        loss = self._loss(batch, audio_emb, text_emb, self.net.logit_scale.exp())
        # Logged at the epoch's end, over every process's batches. Not Lightning's sync_dist: it
        # averages the processes' item counts as integers, so uneven shards come out wrong.
        self._eval_outputs["loss"].append((float(loss), audio_emb.shape[0]))
        self._eval_outputs["index"].append(batch["index"].cpu())
        self._eval_outputs["audio_emb"].append(audio_emb.float().cpu())
        self._eval_outputs["captions"].extend(batch["captions"])

    def on_validation_epoch_start(self) -> None:
        # Every process evaluates with rank 0's running statistics, which its checkpoints
        # hold; DDP itself does not broadcast buffers (conf/trainer/ddp.yaml says why).
        if self._spans_devices:
            distributed.broadcast_buffers(self.net)

    def on_validation_epoch_end(self) -> None:
        self._log_eval("val")

    def _log_eval(self, stage: str) -> None:
        outputs, self._eval_outputs = self._eval_outputs, _no_eval_outputs()
        if self.trainer.sanity_checking:
            return
        metrics = self._eval_metrics(outputs)
        if metrics is None:
            return
        named = {f"{stage}/{k}": v for k, v in metrics.items()}
        if self._spans_devices:
            distributed.hush_sync_advice(named)
        # The same values, over the whole split, on every process: nothing left to reduce, and
        # every process's callbacks (checkpointing, early stopping) see them.
        self.log_dict(named, sync_dist=False, rank_zero_only=False)

    def _eval_metrics(self, outputs: dict[str, list]) -> dict[str, float] | None:
        """Loss and retrieval over every process's evaluation outputs; None if no batch loaded."""
        if self._spans_devices:
            # Every process joins the gather, even one whose shard gave no batch.
            outputs = distributed.gather_eval_outputs(outputs)
        if not outputs["index"]:
            return None
        # The mean over items of each batch's loss, as Lightning's epoch mean would be.
        items = sum(size for _, size in outputs["loss"])
        loss = sum(value * size for value, size in outputs["loss"]) / items
        # The batches carried every caption of their tracks: no need to ask the DataModule.
        metrics, _ = retrieval_from_captions(
            self.net,
            outputs["captions"],
            torch.cat(outputs["index"]),
            torch.cat(outputs["audio_emb"]),
            chunk_size=self.eval_chunk_size,
        )
        return {"loss": loss, **metrics}

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(self._param_groups())
        estimated = self.trainer.estimated_stepping_batches
        total = UNBOUNDED_STEPS if math.isinf(estimated) else int(estimated)
        warmup = round(self.scheduler_config["warmup_ratio"] * total)
        factor = warmup_cosine(total, warmup, self.scheduler_config["min_lr_ratio"])
        callbacks = getattr(self.trainer, "callbacks", [])
        timer = next((c for c in callbacks if isinstance(c, Timer)), None)
        if timer is not None:  # trainer.max_time: the decay spans the time budget
            factor = within_budget(factor, total, lambda: _budget_used(timer))
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def _param_groups(self) -> list[dict]:
        """Weight decay or not; each tower at its `*_lr_scale` times the learning rate."""
        groups: dict[tuple[bool, float], list] = {}
        # The network and, with the SSL branch, its projection head.
        for name, param in self.named_parameters():
            if not param.requires_grad:
                continue
            lowered = name.lower()
            no_decay = param.ndim < 2 or any(h in lowered for h in _NO_DECAY_HINTS)
            groups.setdefault((no_decay, self._lr_scale(name)), []).append(param)
        base_lr = self.optimizer_factory.keywords["lr"]
        return [
            {
                "params": params,
                **({"weight_decay": 0.0} if no_decay else {}),
                **({"lr": base_lr * scale} if scale != 1.0 else {}),
            }
            for (no_decay, scale), params in sorted(groups.items())
        ]

    def _lr_scale(self, name: str) -> float:
        if name.startswith("net.text_encoder."):
            return self.text_lr_scale
        if name.startswith("net.audio_encoder."):
            return self.audio_lr_scale
        return 1.0

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # Enough to rebuild and evaluate the network from the checkpoint alone: with Hugging
        # Face parts, their config, tokenizer and feature-extractor files too.
        if self._net_files is None:
            self._net_files = net_files(self.net)
        bundled = {"net_files": self._net_files} if self._net_files else {}
        checkpoint["muscall"] = {**self.metadata, **bundled}


def _no_eval_outputs() -> dict[str, list]:
    """Per evaluation batch: index and audio_emb tensors, (loss, size) pairs; per track: captions."""
    return {"index": [], "audio_emb": [], "captions": [], "loss": []}


def _budget_used(timer: Timer) -> float:
    """The share of `trainer.max_time` spent training so far (restored on resume)."""
    elapsed = timer.time_elapsed("train")
    remaining = timer.time_remaining("train") or 0.0
    return elapsed / max(elapsed + remaining, 1e-9)
