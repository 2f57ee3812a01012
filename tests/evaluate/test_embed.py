"""An evaluation embedding depends on the track alone: not on batch size, batch mates or mode."""

import copy
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hydra.utils import instantiate

from muscall.config import compose_config
from muscall.data.datamodule import AudioCaptionDataModule
from muscall.evaluate.embed import embed_audio, embed_audio_batch, evaluating

RATE = 16000
# Tracks of different lengths, so whole-track evaluation gives each a different window count.
TRACKS = [(0.7, 220.0), (1.0, 330.0), (1.6, 440.0), (2.3, 550.0), (3.1, 660.0)]
OTHERS = [(0.5, 150.0), (1.2, 900.0), (2.0, 1200.0), (2.8, 260.0), (4.0, 700.0)]


def _tone(seconds, freq, seed):
    t = np.arange(int(seconds * RATE)) / RATE
    noise = np.random.default_rng(seed).normal(0, 0.05, t.shape)
    return (0.3 * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """test: five tracks; val: the same five, each followed by a different track."""
    root = tmp_path_factory.mktemp("embed")
    (root / "audio").mkdir()
    entries = {}
    for kind, specs in (("track", TRACKS), ("other", OTHERS)):
        for i, (seconds, freq) in enumerate(specs):
            path = f"audio/{kind}{i}.npy"
            np.save(root / path, _tone(seconds, freq, seed=len(entries)))
            entries[kind, i] = {
                "audio_id": f"{kind}{i}",
                "caption": f"{kind} {i}",
                "audio_path": path,
            }
    tracks = [entries["track", i] for i in range(5)]
    mixed = [entries[kind, i] for i in range(5) for kind in ("track", "other")]
    for split, items in (("train", tracks), ("val", mixed), ("test", tracks)):
        (root / f"tiny_{split}.json").write_text(json.dumps(items))
    return root


def _datamodule(root, crop, eval_batch_size):
    return AudioCaptionDataModule(
        root=root,
        name=None,
        sample_rate=RATE,
        npy_sample_rate=RATE,
        clip_seconds=1.0,
        eval_clip_seconds=None,
        eval_crop=crop,
        eval_hop_seconds=0.5,
        batch_size=4,
        eval_batch_size=eval_batch_size,
        num_workers=0,
    )


@pytest.fixture(scope="module")
def trained_net(tmp_path_factory):
    """model=tiny (batch-norm throughout its audio tower), running statistics away from init."""
    cfg = compose_config(["model=tiny"], tmp_path_factory.mktemp("cfg"))
    torch.manual_seed(0)
    net = instantiate(cfg.model.net)
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net.encode_audio(0.3 * torch.randn(6, RATE))
    return net


@pytest.fixture
def net(trained_net):
    net = copy.deepcopy(trained_net)
    net.train()
    return net


def _all_training(net):
    return all(module.training for module in net.modules())


def test_the_model_is_batch_dependent_in_train_mode(net):
    # The premise: were embed_audio to leave train mode on, the tests below would see it.
    probe = copy.deepcopy(net)
    clips = torch.stack([torch.from_numpy(_tone(1.0, f, seed=1)) for _, f in TRACKS])
    with torch.no_grad():
        together = probe.encode_audio(clips)[:1]
        alone = probe.encode_audio(clips[:1])
    assert (together - alone).abs().max() > 1e-3


@pytest.mark.parametrize("crop", ["centre", "windows"])
def test_embeddings_do_not_depend_on_batch_size_or_batch_mates(net, dataset, crop):
    indices, alone = embed_audio(net, _datamodule(dataset, crop, 1).pairs_loader("test"), "cpu")
    assert _all_training(net)  # the caller's mode is back
    assert indices.tolist() == [0, 1, 2, 3, 4] and alone.shape == (5, 32)
    torch.testing.assert_close(alone.norm(dim=-1), torch.ones(5))

    _, together = embed_audio(net, _datamodule(dataset, crop, 5).pairs_loader("test"), "cpu")
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=0)

    # Batches of 4 over the tracks interleaved with others: other mates, other batch sizes.
    loader = _datamodule(dataset, crop, 4).pairs_loader("val")
    mixed_indices, mixed = embed_audio(net, loader, "cpu")
    assert mixed_indices.tolist() == list(range(10))
    torch.testing.assert_close(mixed[0::2], alone, atol=1e-5, rtol=0)
    assert net.training and _all_training(net)


def test_a_whole_track_is_the_normalised_mean_of_its_windows(net, dataset):
    datamodule = _datamodule(dataset, "windows", 5)
    _, pooled = embed_audio(net, datamodule.pairs_loader("test"), "cpu")
    tracks = datamodule.tracks("test")
    counts = []
    with evaluating(net):
        for row, track in enumerate(tracks):
            windows = datamodule.eval_reader(track.audio_path, None)  # (W, T)
            counts.append(len(windows))
            each = torch.cat([net.encode_audio(w[None]) for w in windows])  # one at a time
            expected = F.normalize(each.mean(dim=0), dim=-1)
            torch.testing.assert_close(pooled[row], expected, atol=1e-5, rtol=0)
    assert counts[0] == 1 and counts[-1] == 6  # 0.7 s: one window; 3.1 s: 0, 0.5, ..., 2.1 s


def test_window_chunks_do_not_change_the_pooled_embedding(net, dataset):
    batch = next(iter(_datamodule(dataset, "windows", 5).pairs_loader("test")))
    assert len(batch["audio"]) > 5  # more windows than tracks
    with evaluating(net):
        one = embed_audio_batch(net, batch["audio"], batch["window_owner"], chunk_size=1)
        all_at_once = embed_audio_batch(net, batch["audio"], batch["window_owner"], chunk_size=64)
    assert one.shape == (5, 32)
    torch.testing.assert_close(one, all_at_once, atol=1e-5, rtol=0)


def test_evaluating_restores_the_mode_even_after_an_error(net):
    with pytest.raises(RuntimeError), evaluating(net):
        assert not net.training and torch.is_inference_mode_enabled()
        raise RuntimeError("boom")
    assert _all_training(net)
    net.eval()
    with evaluating(net):
        pass
    assert not net.training


def test_evaluating_restores_each_submodule_mode(net):
    net.audio_encoder.eval()  # e.g. a frozen pretrained audio tower inside a training model
    with evaluating(net):
        pass
    assert net.training and not net.audio_encoder.training
