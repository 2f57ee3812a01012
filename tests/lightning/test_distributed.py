"""Two gloo processes on the CPU against one process holding everything: the training loss, its
gradients and the evaluation gather, as MusCALLModule wires them (muscall.lightning.distributed).

Both processes are spawned once per test module and run every scenario; the tests compare
what each returned with a single-process reference computed here.
"""

from __future__ import annotations

import functools
import math
import os
import socket
from datetime import timedelta

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from muscall.lightning import MusCALLModule
from muscall.lightning.distributed import spans_devices
from muscall.losses import ContentAwareWeighting, InfoNCE, content_weights
from tests.helpers.embedders import fixed_embedder

WORLD = 2
PAIRS = 3  # per device
FEATURES, DIM = 6, 5
TEMPERATURE = 0.01
# fp32 throughout, as in training. The processes add the same terms as the reference in
# another order (gathered logits, gloo summing gradients rank by rank), so they agree to
# rounding, ~1e-7 relative; a real mistake (a gradient off by the factor W, weights
# normalised per device) is off by 1e-2 or more.
TOL = {"rtol": 1e-5, "atol": 1e-6}
# A collective that one process never joins fails the test after this, rather than hanging it.
HANG = timedelta(seconds=60)
MODES = [(local, weighted) for local in (True, False) for weighted in (False, True)]


class TinyNet(nn.Module):
    """Two linear towers and a learnt temperature. No BatchNorm: its statistics are per device
    (trainer.sync_batchnorm), so a network with it would not match one process exactly."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.audio = nn.Linear(FEATURES, DIM)
        self.text = nn.Linear(FEATURES, DIM)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(10.0)))

    def forward(self, audio_x, text_x):
        audio_emb = F.normalize(self.audio(audio_x), dim=-1)
        text_emb = F.normalize(self.text(text_x), dim=-1)
        return audio_emb, text_emb, self.logit_scale.exp()


def _global_batch():
    """W·PAIRS pairs; captions of distinct lengths, so the fake embedder tells them apart."""
    gen = torch.Generator().manual_seed(1)
    audio_x = torch.randn(WORLD * PAIRS, FEATURES, generator=gen)
    text_x = torch.randn(WORLD * PAIRS, FEATURES, generator=gen)
    captions = ["a" + "h" * n for n in range(WORLD * PAIRS)]
    return audio_x, text_x, captions


def _module(local_loss: bool, weighted: bool) -> MusCALLModule:
    weighting = None
    if weighted:
        weighting = ContentAwareWeighting(temperature=TEMPERATURE, embedder=fixed_embedder)
    return MusCALLModule(
        net=TinyNet(),
        optimizer=functools.partial(torch.optim.SGD, lr=0.1),
        scheduler={},
        loss=InfoNCE(local_loss=local_loss),
        weighting=weighting,
    )


def _train_step(rank: int, local_loss: bool, weighted: bool) -> dict:
    """One process's loss and gradients, through the module's wiring and real DDP."""
    module = _module(local_loss, weighted)
    module.setup("fit")
    audio_x, text_x, captions = _global_batch()
    mine = slice(rank * PAIRS, (rank + 1) * PAIRS)
    net = DistributedDataParallel(module.net)
    audio_emb, text_emb, scale = net(audio_x[mine], text_x[mine])
    audio_emb.retain_grad()
    text_emb.retain_grad()
    loss = module._loss({"caption": captions[mine]}, audio_emb, text_emb, scale)
    loss.backward()
    wired = module.loss_fn.gather is not None
    module.teardown("fit")
    return {
        "wired": wired,
        "unwired": module.loss_fn.gather is None and not module._spans_devices,
        "loss": loss.item(),
        "audio_grad": audio_emb.grad,
        "text_grad": text_emb.grad,
        "params": {n: p.grad for n, p in module.net.named_parameters()},
    }


class FakeTextNet(nn.Module):
    """Caption "track i ..." → a unit vector near track i's direction."""

    def embed_text(self, captions):
        return torch.stack([_direction(int(c.split()[1]), seed=100) for c in captions])


def _direction(track: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(track)
    base = torch.randn(DIM, generator=gen)
    noise = torch.randn(DIM, generator=torch.Generator().manual_seed(seed + track))
    return F.normalize(base + 0.9 * noise, dim=0)


def _eval_batch(tracks: list[int]) -> dict:
    """One batch of evaluation outputs, as `_eval_step` appends them."""
    return {
        # Each track adds 0.1 · its number: the mean over items is the same for any batching.
        "loss": [(0.1 * sum(tracks) / len(tracks), len(tracks))],
        "index": [torch.tensor(tracks)],
        "audio_emb": [torch.stack([_direction(t, seed=200) for t in tracks])],
        "captions": [[f"track {t} one", f"track {t} two"] for t in tracks],
    }


def _eval_outputs(batches: list[list[int]]) -> dict:
    outputs = {"index": [], "audio_emb": [], "captions": [], "loss": []}
    for tracks in batches:
        for key, value in _eval_batch(tracks).items():
            outputs[key] += value
    return outputs


# Each rank's evaluation batches: unpadded shards of different sizes; a rank with nothing; a
# padding sampler's repeated track.
SHARDS = {
    "uneven": ([[0, 2, 4], [5, 7]], [[1, 3, 6]]),
    "one_empty": ([[0, 1, 2, 3], [4, 5, 6, 7]], []),
    "padded": ([[0, 2, 4, 6]], [[1, 3, 5], [7, 0]]),
}


def _eval_metrics(rank: int) -> dict:
    module = MusCALLModule(net=FakeTextNet(), optimizer=None, scheduler={}, eval_chunk_size=3)
    module.setup("validate")  # no loss: an evaluation-only module still gathers its outputs
    return {
        name: module._eval_metrics(_eval_outputs(shards[rank])) for name, shards in SHARDS.items()
    }


def _worker(rank: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD, timeout=HANG)
    try:
        result = {"spans_devices": spans_devices(), "eval": _eval_metrics(rank)}
        result["train"] = {mode: _train_step(rank, *mode) for mode in MODES}
        torch.save(result, os.path.join(out, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """What each of the two processes returned."""
    out = tmp_path_factory.mktemp("ranks")
    # fork: the processes inherit the imported modules; importing Lightning anew would cost
    # each of them seconds. They keep to one thread, never entering the parent's OpenMP pool.
    port = _free_port()
    mp.start_processes(_worker, (port, str(out)), nprocs=WORLD, start_method="fork")
    return [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(WORLD)]


def _reference(weighted: bool) -> dict:
    """One process, the whole global batch, no gather."""
    net = TinyNet()
    audio_x, text_x, captions = _global_batch()
    audio_emb, text_emb, scale = net(audio_x, text_x)
    audio_emb.retain_grad()
    text_emb.retain_grad()
    weights = content_weights(fixed_embedder(captions), TEMPERATURE) if weighted else None
    loss = InfoNCE()(audio_emb, text_emb, scale, weights)
    loss.backward()
    return {
        "loss": loss.item(),
        "weights": weights,
        "audio_grad": audio_emb.grad,
        "text_grad": text_emb.grad,
        "params": {n: p.grad for n, p in net.named_parameters()},
    }


def test_the_module_wires_the_gather_only_while_several_processes_run(ranks):
    assert all(r["spans_devices"] for r in ranks)
    assert all(step["wired"] and step["unwired"] for r in ranks for step in r["train"].values())
    assert not spans_devices()  # this process: no process group
    module = _module(local_loss=True, weighted=False)
    module.setup("fit")
    assert module.loss_fn.gather is None and not module._spans_devices


@pytest.mark.parametrize("local_loss,weighted", MODES)
def test_loss_matches_one_process_with_the_whole_batch(ranks, local_loss, weighted):
    reference = _reference(weighted)
    losses = [r["train"][(local_loss, weighted)]["loss"] for r in ranks]
    if weighted:  # far from uniform, so weighting the local batch alone would show
        assert reference["weights"].max() > 1.5 * reference["weights"].min()
    if local_loss:  # each process its share; DDP's average of them is the global loss
        assert losses[0] != pytest.approx(losses[1], rel=1e-3)
        assert sum(losses) / WORLD == pytest.approx(reference["loss"], **_approx())
    else:
        assert losses == pytest.approx([reference["loss"]] * WORLD, **_approx())


@pytest.mark.parametrize("local_loss,weighted", MODES)
def test_gradients_match_one_process_with_the_whole_batch(ranks, local_loss, weighted):
    reference = _reference(weighted)
    for rank, result in enumerate(ranks):
        step = result["train"][(local_loss, weighted)]
        mine = slice(rank * PAIRS, (rank + 1) * PAIRS)
        # all_gather's backward sums what every process sends back: W times the global
        # gradient of this process's rows, which DDP's average over W processes undoes.
        for key in ("audio_grad", "text_grad"):
            torch.testing.assert_close(step[key] / WORLD, reference[key][mine], **TOL)
        # DDP has averaged the parameter gradients: every process holds the global gradient.
        assert step["params"].keys() == reference["params"].keys()
        for name, grad in step["params"].items():
            assert reference["params"][name].abs().max() > 1e-3  # a gradient that can differ
            torch.testing.assert_close(grad, reference["params"][name], **TOL)


def _approx() -> dict:
    return {"rel": TOL["rtol"], "abs": TOL["atol"]}


def _whole_set_metrics() -> dict:
    module = MusCALLModule(net=FakeTextNet(), optimizer=None, scheduler={}, eval_chunk_size=3)
    # Batch order differs from any shard's: the metrics never depend on it.
    return module._eval_metrics(_eval_outputs([[7, 1, 4], [0, 6, 2], [5, 3]]))


@pytest.mark.parametrize("shards", list(SHARDS))
def test_eval_metrics_cover_the_whole_set_on_every_process(ranks, shards):
    whole = _whole_set_metrics()
    assert whole["num_tracks"] == 8 and whole["num_captions"] == 16
    assert whole["loss"] == pytest.approx(0.35)  # 0.1 × the mean track number, 0..7
    assert 0 < whole["text_to_audio_R@1"] < 100  # neither saturated nor empty: it can differ
    whole_loss = whole.pop("loss")
    for result in ranks:
        metrics = dict(result["eval"][shards])
        loss = metrics.pop("loss")
        assert metrics == whole  # the same computation on the same rows: exactly equal
        if shards == "padded":  # a loss is per batch: the batch with the repeat still counts
            assert loss != pytest.approx(whole_loss)
        else:  # the same terms, added in another order
            assert loss == pytest.approx(whole_loss, rel=1e-12)


# End to end through Lightning's DDP strategy: validation logs the whole-set metrics on every
# process, and a training step runs with the gather wired. (Exact training gradients are checked
# above with TinyNet: the tiny DualEncoder has BatchNorm, whose statistics are per process and
# which SyncBatchNorm syncs on the GPU only.)
VAL_TRACKS = 5
VAL_SHARDS = ([[0, 3], [4]], [[1, 2]])  # rank 0: two batches, rank 1: one; whole set: 0..4
TRAIN_PAIRS = 2


def _audio(tracks: list[int]) -> torch.Tensor:
    """One second of a distinct tone per track (the tiny model's sample rate: 16 kHz)."""
    t = torch.arange(16000) / 16000
    return torch.stack([0.3 * torch.sin(2 * math.pi * 110 * 2 ** (i / 4) * t) for i in tracks])


def _lightning_batch(net, tracks: list[int]) -> dict:
    captions = [f"tone {i} " + "h" * i for i in tracks]
    return {
        "index": torch.tensor(tracks),
        "audio": _audio(tracks),
        "caption": captions,
        "captions": [[c] for c in captions],
        "tokens": net.tokenizer(captions),
    }


def _loader(batches: list[dict]):
    return torch.utils.data.DataLoader(batches, batch_size=None, collate_fn=lambda b: b)


def _trainer(out: str, callbacks=(), **options):
    import pytorch_lightning as pl

    return pl.Trainer(
        accelerator="cpu",
        max_steps=1,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        use_distributed_sampler=False,
        default_root_dir=out,
        callbacks=list(callbacks),
        **options,
    )


def _tiny_module(model_cfg):
    from hydra.utils import instantiate

    torch.manual_seed(0)
    weighting = ContentAwareWeighting(temperature=TEMPERATURE, embedder=fixed_embedder)
    return instantiate(model_cfg, loss=InfoNCE(), weighting=weighting, metadata={})


class WiredInStep:
    """Records, at each training step, whether the loss gathered and what it returned."""

    def __init__(self):
        import pytorch_lightning as pl

        class Recorder(pl.Callback):
            def on_train_batch_end(inner, trainer, pl_module, outputs, batch, batch_idx):
                self.steps.append((pl_module.loss_fn.gather is not None, float(outputs["loss"])))

        self.steps = []
        self.callback = Recorder()


def _as_lightning_rank(rank: int, port: int) -> None:
    """This forked process as rank `rank` of WORLD, one thread, for Lightning's DDP strategy."""
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        WORLD_SIZE=str(WORLD),
        RANK=str(rank),
        LOCAL_RANK=str(rank),  # the processes exist already: Lightning starts none
        NODE_RANK="0",
    )
    torch.set_num_threads(1)


def _lightning_worker(rank: int, port: int, out: str, model_cfg) -> None:
    import warnings

    from pytorch_lightning.strategies import DDPStrategy

    _as_lightning_rank(rank, port)

    def ddp():  # a strategy per trainer: a trainer keeps its own state on it
        return {
            "devices": WORLD,
            "strategy": DDPStrategy(process_group_backend="gloo", timeout=HANG),
        }

    module = _tiny_module(model_cfg)
    val = _loader([_lightning_batch(module.net, tracks) for tracks in VAL_SHARDS[rank]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (metrics,) = _trainer(out, **ddp()).validate(module, val, verbose=False)
    train = [_lightning_batch(module.net, [rank * TRAIN_PAIRS + i for i in range(TRAIN_PAIRS)])]
    wired = WiredInStep()
    _trainer(out, [wired.callback], limit_val_batches=0, **ddp()).fit(module, _loader(train))
    result = {
        "metrics": metrics,
        "warnings": [str(w.message) for w in caught],
        "steps": wired.steps,
        "unwired": module.loss_fn.gather is None,
    }
    torch.save(result, os.path.join(out, f"lightning{rank}.pt"))
    dist.destroy_process_group()


@pytest.fixture(scope="module")
def model_cfg(tmp_path_factory):
    from muscall.config import compose_config

    return compose_config(["model=tiny"], tmp_path_factory.mktemp("cfg")).model


@pytest.fixture(scope="module")
def lightning_ranks(tmp_path_factory, model_cfg):
    out = tmp_path_factory.mktemp("lightning")
    args = (_free_port(), str(out), model_cfg)
    mp.start_processes(_lightning_worker, args, nprocs=WORLD, start_method="fork")
    return [torch.load(out / f"lightning{r}.pt", weights_only=False) for r in range(WORLD)]


def test_lightning_ddp_validation_logs_the_whole_set_metrics(lightning_ranks, model_cfg, tmp_path):
    module = _tiny_module(model_cfg)
    whole = [_lightning_batch(module.net, tracks) for tracks in (*VAL_SHARDS[0], *VAL_SHARDS[1])]
    (reference,) = _trainer(str(tmp_path)).validate(module, _loader(whole), verbose=False)
    assert reference["val/num_tracks"] == VAL_TRACKS
    for result in lightning_ranks:
        metrics = result["metrics"]
        assert metrics.keys() == reference.keys()
        for name, value in reference.items():
            # val/loss: each batch's loss as one process computes it, averaged with the
            # batch sizes over processes; the retrieval metrics: the same computation exactly.
            expected = pytest.approx(value, rel=1e-6) if name == "val/loss" else value
            assert metrics[name] == expected, name
    assert not [w for w in lightning_ranks[0]["warnings"] if "sync_dist" in w]


def test_lightning_ddp_training_step_gathers_across_processes(lightning_ranks):
    for result in lightning_ranks:
        ((gathered, loss),) = result["steps"]
        assert gathered and math.isfinite(loss)
        assert result["unwired"]  # after fit, the module computes alone again
    # local_loss: each process its own rows of the global loss, so the values differ.
    assert lightning_ranks[0]["steps"][0][1] != lightning_ranks[1]["steps"][0][1]


# Uneven evaluation: a process whose part of the validation stream is empty (more processes
# than val shards) trains and validates alongside the others under conf/trainer/ddp.yaml's
# strategy. With DDP's default buffer broadcast, the first evaluation forward is a collective
# that the empty process never joins, and the run hangs.
class _Stream(torch.utils.data.IterableDataset):
    """Unsized, as data=webdataset's validation stream: Lightning cannot tell it is empty."""

    def __init__(self, batches: list[dict]):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)


def _uneven_worker(rank: int, port: int, out: str, model_cfg) -> None:
    from hydra.utils import instantiate

    from muscall.config import compose_config

    _as_lightning_rank(rank, port)
    strategy_cfg = compose_config(["trainer=ddp"], out).trainer.strategy
    strategy = instantiate(strategy_cfg, process_group_backend="gloo", timeout=HANG)
    module = _tiny_module(model_cfg)
    train = [_lightning_batch(module.net, [rank * TRAIN_PAIRS + i for i in range(TRAIN_PAIRS)])]
    shard = [_lightning_batch(module.net, tracks) for tracks in ([0, 3], [4])] if rank == 0 else []
    val = torch.utils.data.DataLoader(_Stream(shard), batch_size=None, collate_fn=lambda b: b)
    trainer = _trainer(out, devices=WORLD, strategy=strategy)
    trainer.fit(module, _loader(train), val)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    torch.save(metrics, os.path.join(out, f"uneven{rank}.pt"))
    dist.destroy_process_group()


def test_a_process_without_validation_batches_neither_hangs_nor_is_counted(tmp_path, model_cfg):
    mp.start_processes(
        _uneven_worker, (_free_port(), str(tmp_path), model_cfg), nprocs=WORLD, start_method="fork"
    )
    results = [torch.load(tmp_path / f"uneven{r}.pt") for r in range(WORLD)]
    for metrics in results:
        assert metrics["val/num_tracks"] == 3  # rank 0's tracks 0, 3, 4: the whole stream
    assert results[0]["val/text_to_audio_R@1"] == results[1]["val/text_to_audio_R@1"]
