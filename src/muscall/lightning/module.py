"""The LightningModule: a dual encoder, a contrastive loss and the retrieval validation."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import pytorch_lightning as pl
import torch
from omegaconf import OmegaConf
from torch import nn

from muscall.evaluate.embed import embed_audio_batch
from muscall.evaluate.retrieval import retrieval_from_captions
from muscall.lightning.schedule import warmup_cosine

# Parameters that CLIP-style training keeps out of weight decay.
_NO_DECAY_HINTS = ("bias", "norm", "bn", "logit_scale", "embedding", "pos_")


class MusCALLModule(pl.LightningModule):
    """Trains `net` (a DualEncoder) with `loss` (InfoNCE), optionally content-weighted."""

    def __init__(
        self,
        net: nn.Module,
        optimizer: functools.partial,
        scheduler: Mapping[str, Any],
        loss: nn.Module | None = None,
        weighting=None,
        eval_chunk_size: int = 1024,
        metadata: Mapping[str, Any] | None = None,
    ):
        super().__init__()
        self.net = net
        self.loss_fn = loss
        self.weighting = weighting  # not a submodule: never saved, never trained
        self.optimizer_factory = optimizer
        self.scheduler_config = dict(scheduler)
        self.eval_chunk_size = eval_chunk_size
        # muscall.checkpoint's record (network config, preprocessing, ...): in every checkpoint.
        # Plain data (Hydra hands it over as a DictConfig), so checkpoints load with weights_only.
        self.metadata = OmegaConf.to_container(OmegaConf.create(dict(metadata or {})))
        self._eval_outputs: dict[str, list] = {"index": [], "audio_emb": [], "captions": []}

    def forward(self, audio: torch.Tensor, tokens: dict) -> tuple[torch.Tensor, ...]:
        return self.net(audio, tokens)

    def _step_loss(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        audio_emb, text_emb, logit_scale = self.net(batch["audio"], batch["tokens"])
        return self._loss(batch, audio_emb, text_emb, logit_scale), audio_emb, logit_scale

    def _loss(self, batch, audio_emb, text_emb, logit_scale) -> torch.Tensor:
        weights = None
        if self.weighting is not None:
            weights = self.weighting(batch["caption"]).to(audio_emb)
        return self.loss_fn(audio_emb, text_emb, logit_scale, weights)

    def training_step(self, batch: dict | None, batch_idx: int):
        if batch is None:  # every file of the batch was unusable; already reported
            return None
        loss, audio_emb, logit_scale = self._step_loss(batch)
        size = audio_emb.shape[0]
        self.log("train/loss", loss, prog_bar=True, batch_size=size)
        self.log("train/logit_scale", logit_scale, batch_size=size)
        self.log("train/lr", self.optimizers().param_groups[0]["lr"], batch_size=size)
        return loss

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
        self.log(f"{stage}/loss", loss, batch_size=audio_emb.shape[0])
        self._eval_outputs["index"].append(batch["index"].cpu())
        self._eval_outputs["audio_emb"].append(audio_emb.float().cpu())
        self._eval_outputs["captions"].extend(batch["captions"])

    def on_validation_epoch_end(self) -> None:
        self._log_retrieval("val")

    def _log_retrieval(self, stage: str) -> None:
        outputs, self._eval_outputs = (
            self._eval_outputs,
            {"index": [], "audio_emb": [], "captions": []},
        )
        if not outputs["index"] or self.trainer.sanity_checking:
            return
        # The batches carried every caption of their tracks: no need to ask the DataModule.
        metrics, _ = retrieval_from_captions(
            self.net,
            outputs["captions"],
            torch.cat(outputs["index"]),
            torch.cat(outputs["audio_emb"]),
            chunk_size=self.eval_chunk_size,
        )
        self.log_dict({f"{stage}/{k}": v for k, v in metrics.items()})

    def configure_optimizers(self):
        decay, no_decay = [], []
        for name, param in self.net.named_parameters():
            if not param.requires_grad:
                continue
            lowered = name.lower()
            skip = param.ndim < 2 or any(h in lowered for h in _NO_DECAY_HINTS)
            (no_decay if skip else decay).append(param)
        optimizer = self.optimizer_factory(
            [{"params": decay}, {"params": no_decay, "weight_decay": 0.0}]
        )
        total = int(self.trainer.estimated_stepping_batches)
        warmup = round(self.scheduler_config["warmup_ratio"] * total)
        factor = warmup_cosine(total, warmup, self.scheduler_config["min_lr_ratio"])
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # Enough to rebuild and evaluate the network from the checkpoint alone.
        checkpoint["muscall"] = self.metadata
