"""`python -m muscall.install_check`: every native extension loads and a mel spectrogram
computes, so a broken environment fails at `make install`, naming the package."""

from __future__ import annotations

import importlib
import sys

# Every native extension the project loads, with the extra that brings it (None: the core).
NATIVE: dict[str, str | None] = {
    "torch": None,
    "torchaudio": None,
    "numpy": None,
    "scipy.signal": None,
    "soundfile": None,
    "av": None,
    "safetensors.torch": None,
    "tokenizers": None,
    "instant_clip_tokenizer": None,
    "tinysoundfont": None,
    "faiss": "search",
    "onnxruntime": "onnx",
    "onnx": "onnx",
    "umap": "maps",
    "sklearn": "maps",
}


def check_install(extras: bool = True) -> list[str]:
    """Import every native extension and compute one mel spectrogram; the problems, by package."""
    problems = []
    for module, extra in NATIVE.items():
        if extra and not extras:
            continue
        try:
            importlib.import_module(module)
        except Exception as error:  # any failure to load is the finding
            hint = f" (extra '{extra}')" if extra else ""
            problems.append(f"{module}{hint}: {type(error).__name__}: {error}")
    if not problems:
        problems += _check_mel()
    return problems


def _check_mel() -> list[str]:
    import torch
    import torchaudio

    wave = torch.sin(torch.arange(16000) * (2 * torch.pi * 440 / 16000)).unsqueeze(0)
    mel = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_mels=64)(wave)
    if mel.shape[-2] != 64 or not torch.isfinite(mel).all():
        return [f"torchaudio: a mel spectrogram of a test tone came out {tuple(mel.shape)}"]
    return []


if __name__ == "__main__":
    found = check_install(extras="--core" not in sys.argv)
    for line in found:
        print(f"broken environment: {line}", file=sys.stderr)
    if not found:
        print("environment ok: every native extension loads; a mel spectrogram computes")
    sys.exit(1 if found else 0)
