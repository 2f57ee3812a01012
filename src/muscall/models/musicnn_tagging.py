"""Auto-tagging with musicnn: per track, the mean tag probabilities of its 3 s patches.

As musicnn's own extractor does: the whole track's log-mel cut into non-overlapping patches of
187 frames (a trailing partial patch is dropped); a track shorter than one patch is repeated
to fill it, as musicnn's training did ("repeat-pad").
"""

from __future__ import annotations

import numpy as np
import torch

from muscall.models.musicnn import pretrained_tagger
from muscall.models.musicnn_frontend import HOP_LENGTH, PATCH_FRAMES, SAMPLE_RATE, MusicnnMel
from muscall.models.musicnn_tags import TAGS

# The fewest samples whose centred STFT has PATCH_FRAMES frames.
MIN_SAMPLES = (PATCH_FRAMES - 1) * HOP_LENGTH


class MusicnnTagging:
    """musicnn checkpoint `name` ("msd" or "mtt") as a tagger of 16 kHz mono waveforms."""

    sample_rate = SAMPLE_RATE

    def __init__(self, name: str, device: str | torch.device = "cpu", batch_size: int = 32):
        if name not in TAGS:
            from muscall.errors import MuscallError

            raise MuscallError(f"tagger={name}: choose one of {', '.join(sorted(TAGS))}")
        self.name = name
        self.tags = list(TAGS[name])
        self.device = torch.device(device)
        self.tagger = pretrained_tagger(name).to(self.device)
        self.frontend = MusicnnMel().to(self.device)
        self.batch_size = batch_size

    def patches(self, wave: np.ndarray) -> torch.Tensor:
        """(samples,) -> log-mel patches (P, 1, 96, 187), P >= 1."""
        if wave.shape[0] < MIN_SAMPLES:
            wave = np.tile(wave, -(-MIN_SAMPLES // max(wave.shape[0], 1)))
        wave_t = torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32)).to(self.device)
        mel = self.frontend(wave_t[None])  # (1, 1, 96, frames)
        count = mel.shape[-1] // PATCH_FRAMES
        mel = mel[..., : count * PATCH_FRAMES].reshape(1, 96, count, PATCH_FRAMES)
        return mel.permute(2, 0, 1, 3)  # (P, 1, 96, 187)

    @torch.inference_mode()
    def patch_probabilities(self, wave: np.ndarray) -> np.ndarray:
        """(samples,) at 16 kHz -> each patch's tag probabilities (P, 50)."""
        patches = self.patches(wave)
        chunks = [
            torch.sigmoid(self.tagger(patches[i : i + self.batch_size]))
            for i in range(0, patches.shape[0], self.batch_size)
        ]
        return torch.cat(chunks).float().cpu().numpy()

    def probabilities(self, wave: np.ndarray) -> np.ndarray:
        """(samples,) at 16 kHz -> the track's tag probabilities (50,): the mean over patches."""
        return self.patch_probabilities(wave).mean(axis=0)

    def named(self, probabilities: np.ndarray) -> dict[str, float]:
        return {tag: float(p) for tag, p in zip(self.tags, probabilities, strict=True)}
