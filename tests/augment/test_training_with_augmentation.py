"""A real run with augment=default and the SSL branch: it trains, logs, and its checkpoint loads."""

import csv

import torch

import muscall
from muscall.config import compose_config
from muscall.tasks import train
from tests.helpers.datasets import write_tiny_dataset


def test_two_steps_with_augmentation_and_ssl_log_the_ssl_loss_and_load(tmp_path):
    data = write_tiny_dataset(tmp_path / "tiny", counts=(8, 4, 4))
    out = tmp_path / "run"
    overrides = [
        "model=tiny",
        "trainer=cpu",
        "augment=default",
        "augment.wave.pitch.p=0.5",  # off by default for its cost; here it must run too
        "model.ssl_weight=0.3",
        "data=folder",
        f"data.root={data}",
        "data.clip_seconds=1.0",
        "data.batch_size=4",
        "data.num_workers=0",
        "logger=csv",
        "trainer.max_epochs=1",
        "trainer.limit_train_batches=2",
        "trainer.log_every_n_steps=1",
        "trainer.enable_progress_bar=false",
        "task.zeroshot_after_fit=false",
        "task.test_after_fit=false",
    ]
    metrics = train.run(compose_config(overrides, out))
    assert metrics["steps"] == 2
    (log_file,) = out.glob("csv/*/metrics.csv")
    rows = [r for r in csv.DictReader(log_file.open()) if r.get("train/ssl_loss")]
    assert len(rows) == 2
    assert all(float(r["train/ssl_loss"]) > 0 and float(r["train/clip_loss"]) > 0 for r in rows)

    # The checkpoint holds the network only: it loads and embeds as any other.
    ckpt = out / "checkpoints" / "last.ckpt"
    saved = torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]
    assert not any(k.startswith("augment") for k in saved)
    model = muscall.load(ckpt, device="cpu")
    assert not model.net.training
    emb = model.net.encode_audio(0.1 * torch.randn(2, 16000))
    assert emb.shape == (2, model.embed_dim) and torch.isfinite(emb).all()
