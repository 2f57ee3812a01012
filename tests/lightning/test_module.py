"""MusCALLModule: the step loss (weighted InfoNCE, the SSL mix), the validation loss and where
augmentation runs; multi-device wiring is in test_distributed.py."""

import copy

import pytest
import pytorch_lightning as pl
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from torch.utils.data import DataLoader

from muscall.augment import Augmentation
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


class Metrics(pl.Callback):
    """The values each training step logged."""

    def __init__(self):
        self.steps = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.steps.append({k: float(v) for k, v in trainer.callback_metrics.items()})


class SpyAugmentation(Augmentation):
    """Records the mode of the module at every call."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = []

    def augment_wave(self, wave):
        self.calls.append(self.training)
        return super().augment_wave(wave)


def _fit(module, batch, tmp_path, callbacks=(), val=False):
    val_batch = {**batch, "captions": [[c] for c in batch["caption"]]}
    trainer = pl.Trainer(
        max_steps=1,
        limit_val_batches=1 if val else 0,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        callbacks=list(callbacks),
        default_root_dir=tmp_path,
    )
    loader = DataLoader([batch], batch_size=None, collate_fn=lambda b: b)
    val_loader = DataLoader([val_batch], batch_size=None, collate_fn=lambda b: b)
    trainer.fit(module, train_dataloaders=loader, val_dataloaders=val_loader if val else None)


def test_the_ssl_loss_is_mixed_with_the_audio_text_loss_as_muscall_did(model_cfg, tmp_path, caplog):
    torch.manual_seed(0)
    with caplog.at_level("WARNING"):
        module = instantiate(model_cfg, loss=InfoNCE(), ssl_weight=0.3, metadata={})
    assert "without augmentation" in caplog.text  # both views are the same crop
    batch = _batch(module.net)
    reference = copy.deepcopy(module.net).train()
    with torch.no_grad():
        clip = float(InfoNCE()(*reference(batch["audio"], batch["tokens"])))
    metrics = Metrics()
    _fit(module, batch, tmp_path, [metrics])
    (step,) = metrics.steps
    assert step["train/clip_loss"] == pytest.approx(clip, rel=1e-5)
    assert step["train/ssl_loss"] > 0
    mixed = 0.7 * step["train/clip_loss"] + 0.3 * step["train/ssl_loss"]
    assert step["train/loss"] == pytest.approx(mixed, rel=1e-5)


def test_the_ssl_head_is_trained_but_never_part_of_the_network(model_cfg):
    module = instantiate(model_cfg, loss=InfoNCE(), ssl_weight=0.3, metadata={})
    trained = {id(p) for group in _optimizer_groups(module) for p in group["params"]}
    assert all(id(p) in trained for p in module.ssl_head.parameters())
    assert all(id(p) in trained for p in module.net.parameters() if p.requires_grad)
    assert not any(k.startswith("ssl") for k in module.net.state_dict())
    plain = instantiate(model_cfg, loss=InfoNCE(), metadata={})
    assert plain.ssl_head is None and plain.ssl_loss_fn is None


def _optimizer_groups(module):
    module.trainer = type("T", (), {"estimated_stepping_batches": 10})()
    return module.configure_optimizers()["optimizer"].param_groups


def test_a_bad_ssl_weight_is_named(model_cfg):
    with pytest.raises(InstantiationException, match="model.ssl_weight=1.5 must be in"):
        instantiate(model_cfg, loss=InfoNCE(), ssl_weight=1.5, metadata={})


def test_augmentation_runs_in_training_steps_only(model_cfg, tmp_path):
    torch.manual_seed(0)
    augment_cfg = compose_config(["augment=default"], tmp_path / "cfg").augment
    spy = SpyAugmentation(wave=instantiate(augment_cfg.wave), spec=instantiate(augment_cfg.spec))
    module = instantiate(model_cfg, loss=InfoNCE(), augment=spy, ssl_weight=0.3, metadata={})
    _fit(module, _batch(module.net), tmp_path, val=True)
    assert spy.calls == [True, True]  # the two views of the one training step; none in val


def test_the_text_encoder_can_learn_at_its_own_rate(model_cfg):
    module = instantiate(model_cfg, loss=InfoNCE(), text_lr_scale=0.1, metadata={})
    groups = _optimizer_groups(module)
    lr = model_cfg.optimizer.lr
    text = {id(p) for p in module.net.text_encoder.parameters()}
    for group in groups:
        ids = {id(p) for p in group["params"]}
        assert ids <= text or not ids & text  # no group mixes the text encoder with the rest
        assert group["lr"] == pytest.approx(lr * 0.1 if ids <= text else lr)
    assert sum(len(g["params"]) for g in groups) == sum(
        1 for p in module.parameters() if p.requires_grad
    )
    same = _optimizer_groups(instantiate(model_cfg, loss=InfoNCE(), metadata={}))
    assert len(same) == 2 and all(g["lr"] == lr for g in same)


def test_each_tower_learns_at_its_own_rate(model_cfg):
    module = instantiate(
        model_cfg, loss=InfoNCE(), text_lr_scale=0.1, audio_lr_scale=0.5, metadata={}
    )
    lr = model_cfg.optimizer.lr
    towers = {
        0.1: {id(p) for p in module.net.text_encoder.parameters()},
        0.5: {id(p) for p in module.net.audio_encoder.parameters()},
    }
    seen = set()
    for group in _optimizer_groups(module):
        ids = {id(p) for p in group["params"]}
        scale = next((s for s, tower in towers.items() if ids <= tower), 1.0)
        assert scale != 1.0 or not ids & (towers[0.1] | towers[0.5])  # no mixed group
        assert group["lr"] == pytest.approx(lr * scale)
        seen |= ids
    assert towers[0.1] | towers[0.5] <= seen


def test_the_val_loss_is_the_mean_over_items_of_the_batch_losses(model_cfg, tmp_path):
    torch.manual_seed(0)
    module = instantiate(model_cfg, loss=InfoNCE(), metadata={})
    whole = _batch(module.net)
    # Batches of 3 and 1 items: a mean of the batch means would weigh the 1-item batch as 3.
    val = [
        {
            "index": whole["index"][part],
            "audio": whole["audio"][part],
            "caption": CAPTIONS[part],
            "captions": [[c] for c in CAPTIONS[part]],
            "tokens": module.net.tokenizer(CAPTIONS[part]),
        }
        for part in (slice(0, 3), slice(3, 4))
    ]
    trainer = pl.Trainer(
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    loader = DataLoader(val, batch_size=None, collate_fn=lambda b: b)
    (metrics,) = trainer.validate(module, loader, verbose=False)
    with torch.no_grad():
        net = module.net.eval()
        three = float(InfoNCE()(*net(val[0]["audio"], val[0]["tokens"])))
    assert three > 0.1  # the one-item batch's loss is 0: the weighting shows
    assert metrics["val/loss"] == pytest.approx(3 * three / 4, rel=1e-5)
    assert metrics["val/num_tracks"] == 4


@pytest.mark.parametrize(
    "loss,weighting,key",
    [(torch.nn.MSELoss(), None, "loss.criterion"), (InfoNCE(), FixedWeighting(), "loss.weighting")],
)
def test_multi_device_training_names_a_loss_that_cannot_gather(
    model_cfg, monkeypatch, loss, weighting, key
):
    monkeypatch.setattr("muscall.lightning.distributed.spans_devices", lambda: True)
    module = instantiate(model_cfg, loss=loss, weighting=weighting, metadata={})
    with pytest.raises(ValueError, match=key):
        module.setup("fit")
