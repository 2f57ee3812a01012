"""ONNX export of the two towers: waveform -> audio_emb (mel frontend inside), tokens -> text_emb."""

from __future__ import annotations

import copy
import io
import json
import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
import torchaudio
from torch import nn

from muscall.checkpoint import project_version
from muscall.errors import MuscallError
from muscall.extras import load
from muscall.models.hf_bundle import net_files

if TYPE_CHECKING:
    from muscall.models import DualEncoder

AUDIO_FILE = "audio_encoder.onnx"
TEXT_FILE = "text_encoder.onnx"
CONFIG_FILE = "onnx_export.json"
ONNX_FORMAT_VERSION = 1
WAVE_INPUT, AUDIO_OUTPUT, TEXT_OUTPUT = "waveform", "audio_emb", "text_emb"
# Two captions of different lengths, so a tokenizer that pads to the longest pads one of them.
EXAMPLE_CAPTIONS = ("a calm piano melody", "a loud rock song with distorted guitars and drums")
# Unit-norm embeddings: float32 rounding through the graph stays far below this.
CHECK_TOLERANCE = 1e-4


class DFTMelSpectrogram(nn.Module):
    """torchaudio's MelSpectrogram with the STFT as a strided convolution by a windowed DFT basis.

    ONNX exporters cannot take torch.stft's complex output; real and imaginary parts as two
    halves of one conv1d export everywhere and match torch.stft to float32 rounding.
    """

    def __init__(self, mel: torchaudio.transforms.MelSpectrogram):
        super().__init__()
        spec = mel.spectrogram
        if spec.pad or spec.normalized or not spec.center or spec.pad_mode != "reflect":
            raise ValueError("DFTMelSpectrogram supports only centred, reflect-padded STFTs")
        if not spec.onesided or spec.power is None:
            raise ValueError("DFTMelSpectrogram supports only one-sided power spectrograms")
        self.n_fft, self.hop_length, self.power = spec.n_fft, spec.hop_length, spec.power
        # torch.stft centres a shorter window inside the n_fft frame.
        left = (self.n_fft - spec.win_length) // 2
        window = F.pad(spec.window.double(), (left, self.n_fft - spec.win_length - left))
        # k·n mod n_fft in integers keeps the phase exact before the float64 trigonometry.
        k = torch.arange(self.n_fft // 2 + 1)[:, None]
        n = torch.arange(self.n_fft)[None]
        phase = (k * n % self.n_fft).double() * (2 * math.pi / self.n_fft)  # (F, n_fft)
        basis = torch.cat([phase.cos(), -phase.sin()]) * window  # (2F, n_fft)
        self.register_buffer("basis", basis.float()[:, None], persistent=False)
        self.register_buffer("fb", mel.mel_scale.fb.clone(), persistent=False)  # (F, n_mels)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Waveform (B, T) -> mel power (B, n_mels, frames), frames = T // hop + 1."""
        half = self.n_fft // 2
        padded = F.pad(wave[:, None], (half, half), mode="reflect")  # (B, 1, T + n_fft)
        frames = F.conv1d(padded, self.basis, stride=self.hop_length)  # (B, 2F, frames)
        real, imag = frames.chunk(2, dim=1)  # 2 x (B, F, frames)
        spec = real.square() + imag.square()  # |X|^2
        if self.power != 2.0:
            spec = spec.pow(self.power / 2)
        return torch.matmul(spec.transpose(1, 2), self.fb).transpose(1, 2)


def exportable_frontend(frontend: nn.Module) -> nn.Module:
    """A copy of a LogMel frontend whose mel spectrogram exports to ONNX."""
    export_frontend = copy.deepcopy(frontend)
    export_frontend.mel = DFTMelSpectrogram(frontend.mel)
    return export_frontend


class AudioGraph(nn.Module):
    """Waveform (B, T) -> unit-norm audio_emb (B, E): DualEncoder.encode_audio, exportable."""

    def __init__(self, net: DualEncoder):
        super().__init__()
        self.frontend = exportable_frontend(net.frontend)
        self.audio_encoder = net.audio_encoder
        self.audio_proj = net.audio_proj

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        features = self.audio_encoder(self.frontend(waveform))  # (B, audio output_dim)
        return F.normalize(self.audio_proj(features), dim=-1)  # (B, E)


class TextGraph(nn.Module):
    """The tokenizer's tensors, positionally in `input_names` order -> unit-norm text_emb (B, E)."""

    def __init__(self, net: DualEncoder, input_names: Sequence[str]):
        super().__init__()
        self.net = net
        self.input_names = tuple(input_names)

    def forward(self, *tokens: torch.Tensor) -> torch.Tensor:
        return self.net.encode_text(dict(zip(self.input_names, tokens, strict=True)))


def _graph_bytes(
    graph: nn.Module,
    example: tuple[torch.Tensor, ...],
    input_names: Sequence[str],
    output_name: str,
    dynamic_axes: dict[str, dict[int, str]],
    opset: int | None,
) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter warns that it is the legacy path, about its own constant
        # folding, and the tracer about shape checks it keeps as constants: _check_graph runs
        # every graph at untraced shapes instead.
        warnings.filterwarnings(
            "ignore", "You are using the legacy TorchScript", DeprecationWarning
        )
        for category in (DeprecationWarning, UserWarning):
            warnings.filterwarnings("ignore", category=category, module=r"torch\.onnx")
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        torch.onnx.export(
            graph,
            example,
            buffer,
            dynamo=False,
            input_names=list(input_names),
            output_names=[output_name],
            dynamic_axes={**dynamic_axes, output_name: {0: "batch"}},
            opset_version=opset,
        )
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> Path:
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise MuscallError(f"{path}: cannot write the ONNX export ({error})") from error
    return path


def _writable_dir(out_dir: Path) -> Path:
    out_dir = Path(out_dir).expanduser()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise MuscallError(f"{out_dir}: cannot create the ONNX export folder ({error})") from error
    if not os.access(out_dir, os.W_OK):
        raise MuscallError(f"{out_dir}: the ONNX export folder is not writable")
    return out_dir


def _check_graph(data: bytes, inputs: dict[str, torch.Tensor], expected: torch.Tensor) -> None:
    """Run `data` in ONNX Runtime at shapes other than the traced ones; it must match PyTorch.

    The tracer keeps only the branches the example took and folds what it cannot follow into
    constants; this catches a graph that silently works at the traced shape alone.
    """
    onnxruntime = load("onnxruntime", "onnx", "ONNX export (format=onnx)")
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {name: t.cpu().numpy() for name, t in inputs.items()})
    error = float((torch.from_numpy(got) - expected.float().cpu()).abs().max())
    if error > CHECK_TOLERANCE:
        shapes = {name: tuple(t.shape) for name, t in inputs.items()}
        raise RuntimeError(f"ONNX graph differs from PyTorch by {error:.2e} at shapes {shapes}")


def _audio_graph(net: DualEncoder, opset: int | None) -> bytes:
    # The tracer records only the branch it takes, and AttentionPool skips resampling its
    # time table when the grid already has the table's length. Trace a longer clip (the
    # ResNet strides time by 32) so the graph keeps the resize, the identity at that length.
    table = net.audio_encoder.attnpool.time_embedding.shape[0]
    hop = net.frontend.mel.hop_length
    noise = torch.Generator().manual_seed(0)  # leaves the caller's random state alone
    wave = torch.randn(2, hop * 32 * (table + 1) + hop // 3, generator=noise).to(net.device)
    axes = {WAVE_INPUT: {0: "batch", 1: "samples"}}
    data = _graph_bytes(AudioGraph(net).eval(), (wave,), [WAVE_INPUT], AUDIO_OUTPUT, axes, opset)
    check = torch.randn(3, wave.shape[1] // 2 - 7, generator=noise).to(net.device)
    with torch.no_grad():
        _check_graph(data, {WAVE_INPUT: check}, net.encode_audio(check))
    return data


def _text_graph(net: DualEncoder, opset: int | None) -> tuple[bytes, list[str]]:
    tokens = net.tokenize(EXAMPLE_CAPTIONS)
    names = list(tokens)
    example = tuple(tokens[name].to(net.device) for name in names)
    axes = {name: {0: "batch", 1: "length"} for name in names}
    data = _graph_bytes(TextGraph(net, names).eval(), example, names, TEXT_OUTPUT, axes, opset)
    shorter = net.tokenize([*EXAMPLE_CAPTIONS, "a"])
    shorter = {k: v[:, : max(2, v.shape[1] - 1)].to(net.device) for k, v in shorter.items()}
    with torch.no_grad():
        _check_graph(data, shorter, net.encode_text(shorter))
    return data, names


def _runtime_config(net: DualEncoder, text_inputs: list[str]) -> dict:
    tokenizer = net.tokenizer
    tokenizer_args = {k: v for k, v in vars(tokenizer).items() if not k.startswith("_")}
    return {
        "format": "muscall-onnx",
        "format_version": ONNX_FORMAT_VERSION,
        "muscall_version": project_version(),
        "embed_dim": net.embed_dim,
        "audio": {
            "file": AUDIO_FILE,
            "input": WAVE_INPUT,
            "output": AUDIO_OUTPUT,
            "sample_rate": net.frontend.sample_rate,
            # The centred STFT reflect-pads by n_fft / 2, which needs a longer clip.
            "min_samples": net.frontend.mel.n_fft // 2 + 1,
        },
        "text": {
            "file": TEXT_FILE,
            "inputs": text_inputs,
            "output": TEXT_OUTPUT,
            # hydra.utils.instantiate(this) rebuilds the tokenizer where muscall is installed.
            "tokenizer": {
                "_target_": f"{type(tokenizer).__module__}.{type(tokenizer).__qualname__}",
                **tokenizer_args,
            },
        },
    }


def export_onnx(net: DualEncoder, out_dir: Path, opset: int | None = None) -> dict[str, Path]:
    """Write audio_encoder.onnx, text_encoder.onnx and onnx_export.json into `out_dir`.

    The audio graph takes mono waveforms (batch, samples) at the JSON's sample_rate, mel
    frontend included; the text graph takes the tokenizer's int64 tensors (batch, length).
    Both return unit-norm embeddings, equal to `encode_audio` / `encode_text` in eval mode.
    Text is not tokenized inside: a runtime runs the tokenizer the JSON names. Returns the
    paths under the keys "audio", "text" and "config".
    """
    if net_files(net):
        raise MuscallError(
            "format=onnx exports muscall's own towers only; a network with Hugging Face parts "
            "exports with format=safetensors (the default)"
        )
    out_dir = _writable_dir(out_dir)
    was_training = net.training
    net.eval()
    try:
        audio = _audio_graph(net, opset)
        text, text_inputs = _text_graph(net, opset)
    finally:
        net.train(was_training)
    paths = {
        "audio": _write_atomically(out_dir / AUDIO_FILE, audio),
        "text": _write_atomically(out_dir / TEXT_FILE, text),
    }
    config = json.dumps(_runtime_config(net, text_inputs), indent=1) + "\n"
    paths["config"] = _write_atomically(out_dir / CONFIG_FILE, config.encode())
    return paths
