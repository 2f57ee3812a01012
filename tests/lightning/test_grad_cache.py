"""Gradient caching (model.grad_cache_chunk) against the batch run with its whole graph: the same
loss, every parameter's gradient, BatchNorm statistics and random stream afterwards.

Two references. With BatchNorm in training mode, dropout and augmentation on: every chunk
embedded with its graph, in order, from the same seed (BatchNorm normalises by the same chunks,
and the draws come in the same order), then one backward of the whole loss. With BatchNorm in
eval mode and nothing random: the whole batch embedded at once.
"""

from __future__ import annotations

import copy
import logging

import pytest
import pytorch_lightning as pl
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from torch.utils.data import DataLoader

from muscall.augment import Augmentation
from muscall.config import compose_config
from muscall.errors import MuscallError
from muscall.lightning import grad_cache
from muscall.losses import ContentAwareWeighting, InfoNCE

from ..losses.test_weighting import fixed_embedder

BATCH = 6
# fp32. The cached path runs the very same kernels on the very same chunks: on this CPU it
# agrees bit for bit, and the tolerance only allows for a summation order that differs (the
# chunks' parameter gradients are added up in a loop rather than by autograd). A replay that
# draws other dropout masks or augmentations, or a chunk's gradient counted twice, is off by
# 1e-2 or more (test_a_replay_without_the_random_state_would_differ).
TOL = {"rtol": 1e-5, "atol": 1e-6}
# Against the whole batch at once (BatchNorm in eval mode): convolutions of 6 clips and of
# chunks of them add in other orders, ~1e-7 relative.
WHOLE_TOL = {"rtol": 1e-4, "atol": 1e-6}


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    overrides = ["model=tiny", "augment=default", "model.net.text_encoder.dropout=0.2"]
    return compose_config(overrides, tmp_path_factory.mktemp("cfg"))


def _module(cfg, weighted=False, augment=True, ssl_weight=0.0, chunk=None):
    torch.manual_seed(0)
    weighting = ContentAwareWeighting(temperature=0.01, embedder=fixed_embedder)
    augmentation = None
    if augment:
        augmentation = Augmentation(
            wave=instantiate(cfg.augment.wave), spec=instantiate(cfg.augment.spec)
        )
    return instantiate(
        cfg.model,
        loss=InfoNCE(),
        weighting=weighting if weighted else None,
        augment=augmentation,
        ssl_weight=ssl_weight,
        grad_cache_chunk=chunk,
        metadata={},
    ).train()


def _batch(net, size=BATCH) -> dict:
    generator = torch.Generator().manual_seed(3)
    t = torch.arange(16000) / 16000
    freq = 110 * (1 + 3 * torch.rand(size, 1, generator=generator))
    audio = 0.3 * torch.sin(2 * torch.pi * freq * t) + 0.05 * torch.randn(
        size, 16000, generator=generator
    )
    # Captions of distinct lengths: the fixed embedder tells them apart, weights far from uniform.
    captions = [f"tone {i} " + "h" * (3 * i) for i in range(size)]
    return {"audio": audio, "caption": captions, "tokens": net.tokenizer(captions)}


def _reference(module, batch, chunk: int | None) -> dict:
    """Each chunk with its graph (or the whole batch at once, chunk None), one backward."""
    torch.manual_seed(1)
    size = batch["audio"].shape[0]
    step = chunk or size
    parts = [module._embed(batch, slice(s, s + step)) for s in range(0, size, step)]
    loss, _ = module._step_loss(batch, tuple(torch.cat(kind) for kind in zip(*parts, strict=True)))
    module.zero_grad(set_to_none=True)
    loss.backward()
    return _outcome(module, loss)


def _cached(module, batch) -> dict:
    torch.manual_seed(1)
    loss, _ = module._cached_step_loss(batch)
    module.zero_grad(set_to_none=True)
    loss.backward()
    return _outcome(module, loss)


def _outcome(module, loss) -> dict:
    return {
        "loss": loss.item(),
        "grads": {n: p.grad.clone() for n, p in module.named_parameters() if p.grad is not None},
        "buffers": {n: b.clone() for n, b in module.named_buffers()},
        "rng": torch.rand(4),  # the stream after the step: what the next step draws
        "cuda_rng": torch.rand(4, device="cuda").cpu() if torch.cuda.is_initialized() else None,
    }


def _compare(cached: dict, reference: dict, tol: dict) -> None:
    assert cached["loss"] == pytest.approx(reference["loss"], rel=tol["rtol"])
    assert cached["grads"].keys() == reference["grads"].keys()
    for name, grad in reference["grads"].items():
        torch.testing.assert_close(cached["grads"][name], grad, **tol, msg=name)
    for name, buffer in reference["buffers"].items():
        torch.testing.assert_close(cached["buffers"][name], buffer, **tol, msg=name)
    torch.testing.assert_close(cached["rng"], reference["rng"])
    if reference["cuda_rng"] is not None:
        torch.testing.assert_close(cached["cuda_rng"], reference["cuda_rng"])


def _both(module, batch, chunk: int, whole: bool = False) -> tuple[dict, dict]:
    start = copy.deepcopy(module.state_dict())
    reference = _reference(module, batch, None if whole else chunk)
    module.load_state_dict(start)
    module.grad_cache_chunk = chunk
    return _cached(module, batch), reference


# 2 and 3 divide the batch of 6; 4 leaves a chunk of 2; 8 is one chunk.
@pytest.mark.parametrize("chunk", [2, 3, 4, 8])
@pytest.mark.parametrize("weighted", [False, True])
def test_the_cached_step_equals_the_chunks_with_their_graphs(cfg, chunk, weighted):
    module = _module(cfg, weighted=weighted)
    cached, reference = _both(module, _batch(module.net), chunk)
    _compare(cached, reference, TOL)
    # Every trained parameter got a gradient, and one that can differ.
    trained = {n for n, p in module.named_parameters() if p.requires_grad}
    assert reference["grads"].keys() == trained
    assert all(g.abs().max() > 0 for n, g in reference["grads"].items() if "logit_scale" in n)


def test_the_ssl_branch_composes(cfg):
    module = _module(cfg, weighted=True, ssl_weight=0.3)
    cached, reference = _both(module, _batch(module.net), chunk=4)
    assert any(n.startswith("ssl_head.") for n in reference["grads"])
    _compare(cached, reference, TOL)


@pytest.mark.parametrize("chunk", [2, 4])
def test_with_batchnorm_in_eval_mode_it_equals_the_whole_batch_at_once(cfg, chunk):
    module = _module(cfg, weighted=True, augment=False)
    module.net.audio_encoder.eval()  # BatchNorm by its running statistics: no chunk statistics
    module.net.text_encoder.eval()  # no dropout
    cached, reference = _both(module, _batch(module.net), chunk, whole=True)
    _compare(cached, reference, WHOLE_TOL)


def test_a_replay_without_the_random_state_would_differ(cfg, monkeypatch):
    """The equality tests can fail: augmentation and dropout draw anew when not replayed."""
    module = _module(cfg)
    batch = _batch(module.net)
    start = copy.deepcopy(module.state_dict())
    reference = _reference(module, batch, 3)
    module.load_state_dict(start)
    module.grad_cache_chunk = 3
    monkeypatch.setattr(grad_cache.RandomState, "restore", lambda self: None)
    cached = _cached(module, batch)
    assert cached["loss"] == pytest.approx(reference["loss"], rel=1e-6)  # the first pass
    differences = [
        (cached["grads"][n] - g).abs().max() / g.abs().max().clamp_min(1e-12)
        for n, g in reference["grads"].items()
    ]
    assert max(differences) > 1e-2


def _fit(module, batch, tmp_path, **options) -> pl.Trainer:
    trainer = pl.Trainer(
        max_steps=options.pop("max_steps", 1),
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        default_root_dir=tmp_path,
        **options,
    )
    loader = DataLoader([batch, batch], batch_size=None, collate_fn=lambda b: b)
    trainer.fit(module, train_dataloaders=loader)
    return trainer


def test_a_lightning_step_with_bf16_autocast_trains(cfg, tmp_path):
    module = _module(cfg, weighted=True, chunk=4)
    before = copy.deepcopy(module.net.state_dict())
    trainer = _fit(module, _batch(module.net), tmp_path, precision="bf16-mixed")
    assert torch.isfinite(trainer.callback_metrics["train/loss"])
    after = module.net.state_dict()
    assert not torch.equal(before["audio_proj.weight"], after["audio_proj.weight"])


def test_float16_is_refused_in_one_line(cfg):
    module = _module(cfg, chunk=4)
    # A CPU trainer turns 16-mixed into bf16-mixed: a stand-in for a GPU's.
    fields = {"precision": "16-mixed", "accumulate_grad_batches": 1, "world_size": 1}
    module.trainer = type("GpuTrainer", (), fields)()
    with pytest.raises(MuscallError, match=r"grad_cache_chunk=4 with trainer.precision=16-mixed"):
        module.on_fit_start()


@pytest.mark.parametrize("chunk", [0, -3, "64", 2.5])
def test_a_bad_chunk_is_named(cfg, chunk):
    with pytest.raises(InstantiationException, match=r"model.grad_cache_chunk=.*null for off"):
        _module(cfg, chunk=chunk)


def test_off_by_default_in_the_owner_config(cfg):
    assert cfg.model.grad_cache_chunk is None
    assert instantiate(cfg.model, loss=InfoNCE(), metadata={}).grad_cache_chunk is None


def test_accumulation_warns_with_the_negatives_and_the_chunk_key(cfg, tmp_path, caplog):
    module = _module(cfg, augment=False)
    with caplog.at_level(logging.WARNING, logger="muscall.lightning.accumulation"):
        _fit(module, _batch(module.net), tmp_path, accumulate_grad_batches=2)
    (record,) = [r for r in caplog.records if "accumulate_grad_batches" in r.getMessage()]
    message = record.getMessage()
    # No DataModule here: the micro-batch's size is named by its key.
    assert "accumulate_grad_batches=2" in message and "model.grad_cache_chunk" in message


@pytest.mark.gpu
@pytest.mark.parametrize("chunk", [2, 4])
def test_on_cuda_the_replay_restores_the_devices_random_state(cfg, chunk, monkeypatch):
    """Augmentation and dropout draw from the CUDA generator there; fp32, deterministic cuDNN."""
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    module = _module(cfg, weighted=True).cuda()
    batch = _batch(module.net)
    batch = {**batch, "audio": batch["audio"].cuda()}
    batch["tokens"] = {k: v.cuda() for k, v in batch["tokens"].items()}
    cached, reference = _both(module, batch, chunk)
    _compare(cached, reference, {"rtol": 1e-4, "atol": 1e-5})


@pytest.mark.gpu
def test_on_cuda_a_bf16_lightning_step_trains(cfg, tmp_path):
    module = _module(cfg, weighted=True, chunk=4)
    before = copy.deepcopy(module.net.state_dict())
    batch = _batch(module.net)
    trainer = pl.Trainer(
        max_steps=1,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        accelerator="gpu",
        devices=1,
        precision="bf16-mixed",
        default_root_dir=tmp_path,
    )
    trainer.fit(module, DataLoader([batch], batch_size=None, collate_fn=lambda b: b))
    assert torch.isfinite(trainer.callback_metrics["train/loss"])
    after = {k: v.cpu() for k, v in module.net.state_dict().items()}
    assert not torch.equal(before["audio_proj.weight"], after["audio_proj.weight"])


def test_one_key_on_the_command_line_turns_it_on(tmp_path):
    overrides = ["model=tiny", "model.grad_cache_chunk=64", "data.batch_size=4096"]
    cfg = compose_config(overrides, tmp_path)
    module = instantiate(cfg.model, loss=InfoNCE(), metadata={})
    assert module.grad_cache_chunk == 64
