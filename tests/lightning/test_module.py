"""MusCALLModule: the step loss is the weighted InfoNCE when a weighting is given."""

import copy

import pytest
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from torch.utils.data import DataLoader

from muscall.config import compose_config
from muscall.losses import InfoNCE

CAPTIONS = ["a low tone", "a bright tone", "a dark tone", "a soft tone"]
WEIGHTS = torch.tensor([2.5, 1.0, 0.4, 0.1])


class FixedWeighting:
    """Known, far from uniform weights; records the captions it was asked about."""

    def __init__(self):
        self.calls = []

    def __call__(self, captions):
        self.calls.append(list(captions))
        return WEIGHTS.clone()


class StepLoss(pl.Callback):
    def __init__(self):
        self.losses = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.losses.append(float(outputs["loss"]))


@pytest.fixture(scope="module")
def model_cfg(tmp_path_factory):
    return compose_config(["model=tiny"], tmp_path_factory.mktemp("cfg")).model


def _batch(net):
    generator = torch.Generator().manual_seed(0)
    return {
        "index": torch.arange(4),
        "audio": 0.3 * torch.randn(4, 16000, generator=generator),
        "caption": CAPTIONS,
        "tokens": net.tokenizer(CAPTIONS),
    }


def _one_step(module, batch, tmp_path):
    recorder = StepLoss()
    trainer = pl.Trainer(
        max_steps=1,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        callbacks=[recorder],
        default_root_dir=tmp_path,
    )
    # One ready-made batch: no crops, no shuffling, so the reference sees the same inputs.
    loader = DataLoader([batch], batch_size=None, collate_fn=lambda b: b)
    trainer.fit(module, train_dataloaders=loader)
    (loss,) = recorder.losses
    return loss


def test_the_training_loss_is_weighted_by_the_weighting(model_cfg, tmp_path):
    torch.manual_seed(0)
    weighting = FixedWeighting()
    module = instantiate(model_cfg, loss=InfoNCE(), weighting=weighting, metadata={})
    batch = _batch(module.net)
    # The reference: the untouched network in train mode on the same batch, before the step.
    reference = copy.deepcopy(module.net).train()
    with torch.no_grad():
        audio_emb, text_emb, scale = reference(batch["audio"], batch["tokens"])
        weighted = float(InfoNCE()(audio_emb, text_emb, scale, WEIGHTS))
        unweighted = float(InfoNCE()(audio_emb, text_emb, scale))
    assert abs(weighted - unweighted) > 1e-3 * unweighted  # the weights do matter here

    loss = _one_step(module, batch, tmp_path)
    assert weighting.calls == [CAPTIONS]
    assert loss == pytest.approx(weighted, rel=1e-5)
    assert loss != pytest.approx(unweighted, rel=1e-4)


def test_without_a_weighting_the_loss_is_plain_infonce(model_cfg, tmp_path):
    torch.manual_seed(0)
    module = instantiate(model_cfg, loss=InfoNCE(), weighting=None, metadata={})
    batch = _batch(module.net)
    reference = copy.deepcopy(module.net).train()
    with torch.no_grad():
        unweighted = float(InfoNCE()(*reference(batch["audio"], batch["tokens"])))
    assert _one_step(module, batch, tmp_path) == pytest.approx(unweighted, rel=1e-5)


def test_the_metadata_is_plain_data_in_every_checkpoint(model_cfg):
    from omegaconf import OmegaConf

    meta = OmegaConf.create({"net_config": "a: 1", "preprocessing": {"clip_seconds": 1.0}})
    module = instantiate(model_cfg, loss=InfoNCE(), metadata=meta)
    checkpoint = {}
    module.on_save_checkpoint(checkpoint)
    assert checkpoint["muscall"] == {"net_config": "a: 1", "preprocessing": {"clip_seconds": 1.0}}
    assert type(checkpoint["muscall"]) is dict  # not a DictConfig: loads with weights_only
    assert type(checkpoint["muscall"]["preprocessing"]) is dict
