"""task=export: a model folder with no pickle that embeds exactly as its checkpoint."""

from __future__ import annotations

import json

import pytest
import torch

import muscall
from muscall.config import compose_config
from muscall.errors import MuscallError
from muscall.tasks import export


def _export(ckpt, tmp_path, *extra):
    overrides = ["task=export", f"ckpt_path={ckpt}", f"out={tmp_path / 'model'}", *extra]
    return export.run(compose_config(overrides, tmp_path / "run")), tmp_path / "model"


def test_the_folder_holds_safetensors_and_json_and_embeds_as_the_checkpoint(
    tiny_checkpoint, tmp_path
):
    metrics, folder = _export(tiny_checkpoint, tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((folder / "config.json").read_text())
    assert config["preprocessing"]["clip_seconds"] == 1.0
    assert config["net"]["_target_"] == "muscall.models.DualEncoder"
    # safetensors: an 8-byte header length then JSON, never a pickle opcode.
    head = (folder / "model.safetensors").read_bytes()[:9]
    assert head[8:9] == b"{"
    assert metrics["audio_max_abs_diff"] == 0.0 and metrics["text_max_abs_diff"] == 0.0
    original, exported = muscall.load(tiny_checkpoint), muscall.load(folder)
    assert exported.fingerprint == original.fingerprint
    assert exported.window_seconds == original.window_seconds == 1.0
    wave = torch.randn(3, 24000) * 0.1
    assert torch.equal(exported.embed_audio(wave), original.embed_audio(wave))


def test_exporting_again_replaces_the_folder_and_never_overwrites_other_files(
    tiny_checkpoint, tmp_path
):
    _, folder = _export(tiny_checkpoint, tmp_path)
    (folder / "config.json").write_text("{}")  # a damaged earlier export
    _export(tiny_checkpoint, tmp_path)
    assert muscall.load(folder).embed_dim == 32
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(MuscallError, match="not an exported model"):
        export.run(
            compose_config(["task=export", f"ckpt_path={tiny_checkpoint}", f"out={mine}"], tmp_path)
        )
    assert (mine / "notes.txt").read_text() == "keep me"


def test_a_folder_that_names_other_code_or_other_weights_is_refused(tiny_checkpoint, tmp_path):
    _, folder = _export(tiny_checkpoint, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["net"]["frontend"]["_target_"] = "subprocess.call"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(MuscallError, match="subprocess.call"):
        muscall.load(folder)
    config["net"]["frontend"]["_target_"] = "muscall.models.LogMel"
    config["net"]["embed_dim"] = 64
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(MuscallError, match="model.safetensors"):
        muscall.load(folder)


def test_an_unknown_format_is_named(tiny_checkpoint, tmp_path):
    with pytest.raises(MuscallError, match="format=tflite"):
        _export(tiny_checkpoint, tmp_path, "format=tflite")


def test_format_onnx_adds_both_graphs_that_onnx_runtime_runs(tiny_checkpoint, tmp_path):
    import onnxruntime as ort

    _, folder = _export(tiny_checkpoint, tmp_path, "format=onnx")
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "audio_encoder.onnx",
        "config.json",
        "model.safetensors",
        "onnx_export.json",
        "text_encoder.onnx",
    ]
    model = muscall.load(folder)  # still a model folder
    wave = (torch.randn(2, 20000) * 0.1).numpy()
    session = ort.InferenceSession(str(folder / "audio_encoder.onnx"))
    (got,) = session.run(None, {"waveform": wave})
    expected = model.net.encode_audio(torch.from_numpy(wave)).detach().numpy()
    assert abs(got - expected).max() < 1e-4
