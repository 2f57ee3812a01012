"""ONNX export: ONNX Runtime gives PyTorch's embeddings at every batch size and length."""

from __future__ import annotations

import json

import onnx
import onnxruntime
import pytest
import torch
import torchaudio
from hydra.utils import instantiate

from muscall.config import compose_config
from muscall.errors import MuscallError
from muscall.export.onnx import DFTMelSpectrogram, export_onnx, exportable_frontend
from muscall.models import ClipBPETokenizer, LogMel

CAPTIONS = ["a bright piano", "slow ambient pads with a deep drone and soft rain", "drums"]
# The bound the issue sets for unit-norm embeddings; float32 rounding stays near 1e-7.
TOLERANCE = 1e-4


def random_net(*overrides: str) -> torch.nn.Module:
    """The model=cpu network in eval mode, its BatchNorms given random statistics and affines.

    Fresh BatchNorms are the identity and zero-initialised ones silence their block; random
    ones make every layer count in the comparison.
    """
    torch.manual_seed(0)
    net = instantiate(compose_config(["model=cpu", *overrides]).model.net)
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.normal_(0, 0.1)
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return net.eval()


def sample_waves(batch: int, samples: int, sample_rate: int) -> torch.Tensor:
    """Noise, tones and tones over quiet noise: flat spectra and ones that reach the dB floor."""
    generator = torch.Generator().manual_seed(batch * samples)
    t = torch.arange(samples) / sample_rate
    waves = []
    for i in range(batch):
        tone = 0.3 * torch.sin(2 * torch.pi * (220 * 2**i) * t)
        noise = torch.randn(samples, generator=generator)
        waves.append([0.1 * noise, tone, tone + 1e-3 * noise][i % 3])
    return torch.stack(waves)


def run(session: onnxruntime.InferenceSession, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    (out,) = session.run(None, {name: t.numpy() for name, t in inputs.items()})
    return torch.from_numpy(out)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    net = random_net()
    paths = export_onnx(net, tmp_path_factory.mktemp("onnx"))
    sessions = {k: onnxruntime.InferenceSession(paths[k]) for k in ("audio", "text")}
    return {"net": net, "paths": paths, "sessions": sessions}


# Export traces two clips of about 7.2 s; 6 s gives the grid the time table's own length
# (where the position table is used without resampling) and 1.7317 s is no multiple of the hop.
@pytest.mark.parametrize(("batch", "seconds"), [(1, 1.0), (3, 2.5), (2, 1.7317), (1, 6.0)])
def test_audio_graph_matches_pytorch(exported, batch, seconds):
    net = exported["net"]
    sample_rate = net.frontend.sample_rate
    wave = sample_waves(batch, round(seconds * sample_rate), sample_rate)
    with torch.no_grad():
        expected = net.encode_audio(wave)
    got = run(exported["sessions"]["audio"], {"waveform": wave})
    assert got.shape == (batch, net.embed_dim)
    torch.testing.assert_close(got.norm(dim=-1), torch.ones(batch))
    assert (got - expected).abs().max() < TOLERANCE


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("context_length", [None, 9])  # None: the model's own, 128
def test_text_graph_matches_pytorch(exported, batch, context_length):
    net = exported["net"]
    tokenizer = ClipBPETokenizer(context_length) if context_length else net.tokenizer
    tokens = tokenizer(CAPTIONS[:batch])
    with torch.no_grad():
        expected = net.encode_text(tokens)
    got = run(exported["sessions"]["text"], tokens)
    assert got.shape == (batch, net.embed_dim)
    assert (got - expected).abs().max() < TOLERANCE


def test_graphs_keep_dynamic_batch_and_length(exported):
    """A traced size left in the graph would fix it to the example's shape."""

    def dims(values):
        return {v.name: [d.dim_param for d in v.type.tensor_type.shape.dim] for v in values}

    audio = onnx.load(exported["paths"]["audio"]).graph
    text = onnx.load(exported["paths"]["text"]).graph
    assert dims(audio.input) == {"waveform": ["batch", "samples"]}
    assert dims(text.input) == {"input_ids": ["batch", "length"]}
    assert dims(audio.output)["audio_emb"][0] == dims(text.output)["text_emb"][0] == "batch"


def test_config_says_how_to_feed_the_graphs(exported):
    net, paths = exported["net"], exported["paths"]
    config = json.loads(paths["config"].read_text())
    assert config["audio"]["sample_rate"] == net.frontend.sample_rate
    assert config["embed_dim"] == net.embed_dim
    assert config["text"]["inputs"] == ["input_ids"]
    tokenizer = instantiate(config["text"]["tokenizer"])
    assert torch.equal(tokenizer(CAPTIONS)["input_ids"], net.tokenize(CAPTIONS)["input_ids"])
    # The shortest clip the JSON allows runs; the graphs sit beside the JSON.
    wave = sample_waves(1, config["audio"]["min_samples"], net.frontend.sample_rate)
    session = onnxruntime.InferenceSession(paths["config"].parent / config["audio"]["file"])
    with torch.no_grad():
        assert (run(session, {"waveform": wave}) - net.encode_audio(wave)).abs().max() < TOLERANCE
    assert not list(paths["config"].parent.glob("*.partial"))


@pytest.mark.parametrize(
    "mel",
    [
        LogMel(n_mels=64).mel,  # the model's settings
        torchaudio.transforms.MelSpectrogram(
            16000, 512, win_length=400, hop_length=160, n_mels=40, power=1
        ),
    ],
    ids=["logmel", "short_window_magnitude"],
)
def test_dft_mel_equals_torchaudio(mel):
    wave = sample_waves(3, 40_000, 16_000)
    expected = mel(wave)
    got = DFTMelSpectrogram(mel)(wave)
    peak = expected.amax(dim=(1, 2), keepdim=True)
    assert ((got - expected).abs() / peak).max() < 1e-5


def test_exportable_frontend_equals_logmel():
    frontend = LogMel(n_mels=64)
    wave = sample_waves(3, 40_000, 16_000)
    # Bins near the 100 dB floor carry float32 rounding of either STFT (about 0.01 dB).
    torch.testing.assert_close(
        exportable_frontend(frontend)(wave), frontend(wave), atol=0.05, rtol=0
    )


def test_export_keeps_the_network_mode(exported, tmp_path):
    # The fixture exported a network in eval mode; no submodule may come back training.
    assert not any(module.training for module in exported["net"].modules())
    net = random_net().train()
    export_onnx(net, tmp_path)
    assert all(module.training for module in net.modules())


def test_unwritable_folder_names_the_path(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(MuscallError, match="a_file"):
        export_onnx(random_net(), blocker / "onnx")


@pytest.mark.slow  # loads the pretrained MiniLM and exports both graphs again: ~10 s
def test_minilm_text_graph_matches_pytorch(tmp_path):
    net = random_net("model/text@model.net=minilm")
    paths = export_onnx(net, tmp_path)
    session = onnxruntime.InferenceSession(paths["text"])
    assert json.loads(paths["config"].read_text())["text"]["inputs"] == [
        "input_ids",
        "attention_mask",
    ]
    for batch in (1, 3):  # MiniLM pads to the longest caption: lengths 5 and 13
        tokens = net.tokenize(CAPTIONS[:batch])
        with torch.no_grad():
            expected = net.encode_text(tokens)
        got = run(session, tokens)
        assert (got - expected).abs().max() < TOLERANCE
