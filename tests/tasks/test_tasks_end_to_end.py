"""Every task through its run(cfg) function on a generated tiny dataset."""

import json
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch

from muscall.config import compose_config
from muscall.errors import MuscallError
from muscall.losses import ContentAwareWeighting
from muscall.runs import assembly
from muscall.tasks import retrieval, train, zeroshot

RETRIEVAL_KEYS = {
    f"{d}_{m}"
    for d in ("text_to_audio", "audio_to_text")
    for m in ("R@1", "R@5", "R@10", "median_rank", "mean_rank", "mAP@10")
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, train_overrides):
    out = tmp_path_factory.mktemp("train")
    metrics = train.run(compose_config(train_overrides, out))
    return out, metrics


def test_train_writes_checkpoints_metrics_and_evaluates(trained):
    out, metrics = trained
    assert (out / "checkpoints" / "last.ckpt").is_file()
    assert "model:" in (out / "config.yaml").read_text()  # the resolved config
    assert Path(metrics["best_checkpoint"]).is_file()
    on_disk = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= on_disk["val/text_to_audio_R@10"] <= 100.0
    assert {f"test/{k}" for k in RETRIEVAL_KEYS} <= on_disk.keys()
    assert 0.0 <= on_disk["zeroshot/words/accuracy"] <= 100.0
    assert on_disk["steps"] == 6  # 12 tracks / batch 4 x 2 epochs
    runs = list((out / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and any(runs[0].glob("*.wandb"))


def test_retrieval_and_zeroshot_from_the_checkpoint_alone(
    tmp_path, trained, tiny_dataset, tiny_set_file
):
    out, metrics = trained
    # A different model config on the command line must not matter: the checkpoint decides.
    common = [
        "model=muscall",
        "trainer=cpu",
        "data=folder",
        f"data.root={tiny_dataset}",
        "data.clip_seconds=1.0",
        "data.num_workers=0",
        f"ckpt_path={metrics['best_checkpoint']}",
    ]
    got = retrieval.run(compose_config(["task=retrieval", *common], tmp_path / "r"))
    assert got.keys() >= RETRIEVAL_KEYS
    assert got["num_tracks"] == 4 and got["num_captions"] == 4
    # Evaluation is deterministic: centre crops, eval mode.
    again = retrieval.run(compose_config(["task=retrieval", *common], tmp_path / "r2"))
    assert again == got
    sets = f"zeroshot.sets={{words: {tiny_set_file}}}"
    zs = zeroshot.run(compose_config(["task=zeroshot", *common, sets], tmp_path / "z"))
    assert 0.0 <= zs["zeroshot/words/accuracy"] <= 100.0
    assert zs["zeroshot/words/num_items"] == 4
    assert json.loads((tmp_path / "z" / "metrics.json").read_text()) == pytest.approx(zs)


class BestAtTrainStart(pl.Callback):
    """What the best-checkpoint callback holds once a resumed fit has restored it."""

    def on_train_start(self, trainer, pl_module):
        callback = trainer.checkpoint_callback
        self.path = callback.best_model_path
        self.score = callback.best_model_score
        self.tie_score = callback.best_tie_score


def test_resume_continues_with_optimizer_and_scheduler_state(
    tmp_path, trained, train_overrides, monkeypatch
):
    out, first = trained
    first_runs = list((out / "wandb").glob("offline-run-*"))
    last = out / "checkpoints" / "last.ckpt"
    state = torch.load(last, weights_only=True)
    assert state["optimizer_states"] and state["lr_schedulers"]
    assert state["global_step"] == 6
    saved_best = next(v for k, v in state["callbacks"].items() if k.startswith("BestCheckpoint"))

    probe = BestAtTrainStart()
    build_trainer = assembly.build_trainer

    def with_probe(cfg, loggers):
        trainer = build_trainer(cfg, loggers)
        trainer.callbacks.append(probe)
        return trainer

    monkeypatch.setattr(assembly, "build_trainer", with_probe)
    more = train_overrides + ["trainer.max_epochs=3", f"ckpt_path={last}"]
    resumed = tmp_path / "resumed"
    metrics = train.run(compose_config(more, resumed))
    assert metrics["steps"] == 9  # 3 more steps, not 9 from scratch
    # The best checkpoint, its score and its tie-breaker came back before training went on
    # (R@10 is 100 at every epoch of 4 val tracks: only the restored state can show this).
    assert probe.path == first["best_checkpoint"]
    assert float(probe.score) == pytest.approx(first["val/text_to_audio_R@10"])
    assert probe.tie_score is not None
    assert float(probe.tie_score) == pytest.approx(float(saved_best["best_tie_score"]))
    # The resumed run goes on in the first run's folder (tests/tasks/test_faults.py), and in
    # its wandb run: a second offline log of the same run id.
    assert Path(metrics["best_checkpoint"]).parent == last.parent
    assert not resumed.exists()
    runs = sorted((out / "wandb").glob("offline-run-*"))
    assert len(runs) == 2 and first_runs[0] in runs
    assert len({run.name.rsplit("-", 1)[1] for run in runs}) == 1


def test_eval_tasks_need_a_checkpoint(tmp_path, tiny_dataset):
    cfg = compose_config(["task=retrieval", "data=folder", f"data.root={tiny_dataset}"], tmp_path)
    with pytest.raises(MuscallError, match="ckpt_path"):
        retrieval.run(cfg)


def test_weighted_loss_smoke_run(tmp_path, tiny_dataset, monkeypatch):
    # debug=fast: one batch of train, val and test, with MusCALL's content-aware weighting.
    batches = []
    weigh = ContentAwareWeighting.__call__

    def recording(self, captions, device=None):
        weights = weigh(self, captions, device)
        batches.append((list(captions), weights))
        return weights

    monkeypatch.setattr(ContentAwareWeighting, "__call__", recording)
    overrides = [
        "model=tiny",
        "data=folder",
        f"data.root={tiny_dataset}",
        "data.clip_seconds=1.0",
        "data.batch_size=4",
        "loss=weighted",
        "debug=fast",
        "trainer.enable_progress_bar=false",
        "task.zeroshot_after_fit=false",
    ]
    metrics = train.run(compose_config(overrides, tmp_path))
    assert metrics["steps"] == 1
    assert 0.0 <= metrics["test/text_to_audio_R@10"] <= 100.0
    # The weighting saw the training batch (and the validation batch): it was not dropped.
    assert batches, "loss=weighted never called its weighting"
    captions, weights = batches[0]
    assert len(captions) == 4 and weights.shape == (4,)
    assert weights.mean().item() == pytest.approx(1.0)
