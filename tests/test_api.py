"""muscall.load and the model API: the same numbers as evaluation, whatever the batching."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import muscall
from muscall.api import _TrackWindows
from muscall.audio import reading as audio_io
from muscall.audio.track_windows import BLOCK_FRAMES
from muscall.errors import AudioError, MuscallError
from muscall.evaluate.ranking import retrieval_metrics
from tests.helpers.datasets import SMALL_RUN_TEMPLATES


def _split(small_run, split="test") -> list[dict]:
    return json.loads((small_run["data"] / f"tiny_{split}.json").read_text())


@pytest.fixture(scope="module")
def model(small_run):
    return muscall.load(small_run["metrics"]["best_checkpoint"], device="cpu")


def test_load_takes_the_checkpoints_preprocessing_and_templates(model):
    # small_run trained on 1 s clips with whole-track windows 0.25 s apart.
    assert (model.sample_rate, model.window_seconds, model.hop_seconds) == (16000, 1.0, 0.25)
    assert model.templates == SMALL_RUN_TEMPLATES
    assert not model.net.training


def test_api_retrieval_equals_the_metrics_reported_after_training(model, small_run):
    entries = _split(small_run)
    audio_emb = model.embed_audio([small_run["data"] / e["audio_path"] for e in entries])
    text_emb = model.embed_text([e["caption"] for e in entries])
    got = retrieval_metrics(audio_emb, text_emb, torch.arange(len(entries)))
    reported = small_run["metrics"]
    for key in ("text_to_audio_R@1", "text_to_audio_mean_rank", "audio_to_text_R@5"):
        assert got[key] == pytest.approx(reported[f"test/{key}"], rel=1e-6), key


def test_api_zero_shot_equals_the_reported_accuracy(model, small_run):
    entries = json.loads(small_run["set_file"].read_text())["items"]
    paths = [(small_run["set_file"].parent / e["audio_path"]).resolve() for e in entries]
    labels = sorted({e["label"] for e in entries})
    scores = model.zero_shot(paths, labels)
    assert len(scores) == len(paths) and list(scores[0]) == labels
    hits = [max(row, key=row.get) == e["label"] for row, e in zip(scores, entries, strict=True)]
    accuracy = 100.0 * sum(hits) / len(hits)
    assert accuracy == pytest.approx(small_run["metrics"]["zeroshot/words/accuracy"], rel=1e-6)


def test_embeddings_do_not_depend_on_batch_size_order_or_workers(model, small_run):
    paths = [small_run["data"] / e["audio_path"] for e in _split(small_run)][:9]
    reference = model.embed_audio(paths, batch_size=1)
    assert torch.allclose(model.embed_audio(paths, batch_size=7), reference, atol=1e-5)
    shuffled = [8, 3, 0, 5, 1, 7, 2, 6, 4]
    again = model.embed_audio([paths[i] for i in shuffled], batch_size=4)
    assert torch.allclose(again, reference[shuffled], atol=1e-5)
    streamed = {r.position: r.embedding for r in model.stream_audio(paths, num_workers=2)}
    assert sorted(streamed) == list(range(9))
    assert torch.allclose(
        torch.from_numpy(np.stack([streamed[i] for i in range(9)])), reference, atol=1e-5
    )
    assert torch.allclose(reference.norm(dim=1), torch.ones(9), atol=1e-5)


def test_arrays_at_any_rate_and_channel_count(model, tmp_path):
    rate = 16000
    t = np.arange(int(2.3 * rate)) / rate
    mono = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    stereo = np.stack([mono, mono])  # (channels, samples)
    # soundfile writes (samples, channels); float samples, so the file equals the array.
    sf.write(tmp_path / "tone.wav", stereo.T, rate, subtype="FLOAT")
    from_file = model.embed_audio(tmp_path / "tone.wav")
    assert from_file.shape == (1, model.embed_dim)
    assert torch.allclose(model.embed_audio(mono), from_file, atol=1e-5)
    assert torch.allclose(model.embed_audio([stereo]), from_file, atol=1e-5)
    assert torch.allclose(model.embed_audio([stereo.T]), from_file, atol=1e-5)
    # The same tone given at 44.1 kHz is resampled to the model's rate: close, not equal.
    t44 = np.arange(int(2.3 * 44100)) / 44100
    at_44k = (0.3 * np.sin(2 * np.pi * 330 * t44)).astype(np.float32)
    assert torch.nn.functional.cosine_similarity(
        model.embed_audio(at_44k, sample_rate=44100), from_file
    ).item() == pytest.approx(1.0, abs=1e-3)


def test_a_long_track_is_decoded_window_by_window(model, tmp_path, monkeypatch):
    rate = 44100  # a stereo 44.1 kHz file, as music libraries hold
    seconds = 12.0
    noise = np.random.default_rng(0).standard_normal((int(seconds * rate), 2)) * 0.1
    sf.write(tmp_path / "long.flac", noise.astype(np.float32), rate)
    spans = []
    read = audio_io._Decoder.read

    def spy(self, start, frames):
        spans.append(frames)
        return read(self, start, frames)

    monkeypatch.setattr(audio_io._Decoder, "read", spy)
    result = next(model.stream_audio([tmp_path / "long.flac"], num_workers=0))
    assert result.error is None and result.duration == pytest.approx(seconds)
    # 1 s windows 0.25 s apart over 12 s: each frame decoded once, a block at a time, never
    # the whole track at once.
    blocks = max(BLOCK_FRAMES, int(np.ceil(model.window_seconds * rate)))
    assert max(spans) <= blocks and 2 < len(spans) <= np.ceil(seconds * rate / blocks) + 1


def test_a_bad_file_is_reported_by_stream_and_raised_by_embed(model, small_run, tmp_path):
    good = small_run["data"] / _split(small_run)[0]["audio_path"]
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00not audio at all" * 8)
    results = sorted(
        model.stream_audio([good, bad, tmp_path / "gone.mp3"]), key=lambda r: r.position
    )
    assert results[0].error is None and results[0].embedding.shape == (model.embed_dim,)
    assert str(bad) in results[1].error and results[1].embedding is None
    assert "gone.mp3" in results[2].error and "not found" in results[2].error
    with pytest.raises(AudioError, match="broken.wav"):
        model.embed_audio([good, bad])


def test_embed_text_is_unit_norm_and_refuses_non_strings(model):
    emb = model.embed_text(["a low tone", "a bright tone"])
    assert emb.shape == (2, model.embed_dim)
    assert torch.allclose(emb.norm(dim=1), torch.ones(2), atol=1e-5)
    assert torch.allclose(model.embed_text("a low tone"), emb[:1], atol=1e-6)
    with pytest.raises(MuscallError, match=r"texts\[1\]"):
        model.embed_text(["fine", 3])


def test_load_refuses_what_is_not_a_model(tmp_path):
    with pytest.raises(MuscallError, match="not found"):
        muscall.load(tmp_path / "missing.ckpt")
    with pytest.raises(MuscallError, match="not an exported model"):
        muscall.load(tmp_path)


def test_a_saved_config_can_only_name_muscall_models(small_run, tmp_path):
    saved = torch.load(small_run["metrics"]["best_checkpoint"], weights_only=True)
    saved["muscall"]["net_config"] = "_target_: os.system\ncommand: touch pwned\n"
    torch.save(saved, tmp_path / "evil.ckpt")
    with pytest.raises(MuscallError, match="os.system"):
        muscall.load(tmp_path / "evil.ckpt")
    assert not Path("pwned").exists()


@pytest.mark.parametrize("model_rate", [8000, 22050])
def test_a_npy_file_is_read_at_one_rate_for_its_length_and_its_windows(tmp_path, model_rate):
    # A .npy carries no rate: it is the model's, for its length and its windows alike.
    wave = np.random.default_rng(1).uniform(-0.5, 0.5, int(2.5 * model_rate)).astype(np.float32)
    np.save(tmp_path / "clip.npy", wave)
    windows = _TrackWindows([tmp_path / "clip.npy", wave], None, model_rate, 1.0, 0.5, 64)
    from_file, from_array = (c for c in windows if c["last"])
    assert from_file["error"] is None
    assert from_file["duration"] == from_array["duration"] == pytest.approx(2.5)
    np.testing.assert_array_equal(from_file["windows"], from_array["windows"])
    assert len(from_file["windows"]) == 4  # starts 0, 0.5, 1.0 s and the last at 1.5 s
