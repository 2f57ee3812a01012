"""Any Hugging Face audio model as the audio tower, fed by its own feature extractor.

Raw-waveform models (wav2vec2, HuBERT, MERT) take normalised samples; spectrogram models
(AST, CLAP's HTS-AT) take what their feature extractor computes. Either way the frontend
declares the model's sample rate, and the data is read at that rate.
"""

from __future__ import annotations

import torch
from torch import nn

from muscall.errors import MuscallError
from muscall.models.freezing import FreezableTower
from muscall.models.hf_bundle import saved_files
from muscall.models.hf_hub import from_pretrained, load_model

POOLINGS = ("mean", "first", "pooler")


class HFFeatureExtractor(nn.Module):
    """Waveforms (B, T) at `sample_rate` -> the model's input dict, on the waveforms' device.

    A wav2vec2-style extractor (per-clip zero mean, unit variance) runs in torch on the
    device; any other runs as transformers ships it, on the CPU.
    """

    # Its output is the model's own input (samples, filterbanks): log-mel masking skips it.
    gives_log_mel = False

    def __init__(self, name_or_path: str):
        super().__init__()
        from transformers import AutoFeatureExtractor

        self.name_or_path = str(name_or_path)
        self.extractor = from_pretrained(
            AutoFeatureExtractor, self.name_or_path, "feature extractor"
        )
        self.sample_rate = int(self.extractor.sampling_rate)
        self._in_torch = type(self.extractor).__name__ == "Wav2Vec2FeatureExtractor" and not (
            self.extractor.return_attention_mask
        )

    def hf_files(self) -> dict[str, str]:
        return saved_files(self.extractor)

    def forward(self, wave: torch.Tensor) -> dict[str, torch.Tensor]:
        if wave.ndim != 2:
            raise ValueError(f"expected a waveform batch (B, T), got {tuple(wave.shape)}")
        if self._in_torch:
            wave = wave.float()
            if self.extractor.do_normalize:
                mean = wave.mean(dim=1, keepdim=True)
                var = wave.var(dim=1, keepdim=True, unbiased=False)
                wave = (wave - mean) / torch.sqrt(var + 1e-7)
            return {"input_values": wave}
        arrays = list(wave.detach().float().cpu().numpy())
        features = self.extractor(arrays, sampling_rate=self.sample_rate, return_tensors="pt")
        return {key: value.to(wave.device) for key, value in features.items()}


class HFAudioEncoder(FreezableTower):
    """The model's input dict -> one vector per clip (B, hidden_size).

    `pooling`: "mean" over time, "first" (a [CLS]-style token, AST) or "pooler" (the model's
    own pooled output). `layer_weights`: a learned softmax-weighted sum of every hidden layer
    instead of the last one, as MERT's authors probe it.
    """

    def __init__(
        self,
        name_or_path: str,
        pooling: str = "mean",
        layer_weights: bool = False,
        freeze: bool = False,
        unfreeze_after_steps: int | None = None,
        pretrained: bool = True,
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise MuscallError(
                f"model.net.audio_encoder.pooling={pooling}: choose one of {', '.join(POOLINGS)}"
            )
        if pooling == "pooler" and layer_weights:
            raise MuscallError(
                "model.net.audio_encoder: pooling=pooler uses the last layer only; "
                "layer_weights=true needs pooling=mean or first"
            )
        self.name_or_path = str(name_or_path)
        self.model = load_model(self.name_or_path, pretrained)
        self.config = self.model.config
        self.pooling = pooling
        self.output_dim = int(self.config.hidden_size)
        # Zeros: an even mix of the layers to start with.
        count = (self.config.num_hidden_layers + 1) if layer_weights else 0
        self.layer_weights = nn.Parameter(torch.zeros(count)) if layer_weights else None
        self._init_freezing(freeze, unfreeze_after_steps)

    def hf_files(self) -> dict[str, str]:
        return saved_files(self.config)

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        mixing = self.layer_weights is not None
        with self.frozen_context():
            out = self.model(**features, output_hidden_states=mixing)
        if self.pooling == "pooler":
            return out.pooler_output  # (B, D)
        if mixing:
            layers = torch.stack(out.hidden_states)  # (layers + 1, B, T, D)
            weights = self.layer_weights.softmax(dim=0).to(layers.dtype)
            states = torch.einsum("l,lbtd->btd", weights, layers)
        else:
            states = out.last_hidden_state  # (B, T, D)
        return states[:, 0] if self.pooling == "first" else states.mean(dim=1)
