"""The port equals musicnn's own TensorFlow graph: 50 tag probabilities within 1e-4.

The reference (fixtures/musicnn_reference.npz) was made once by make_musicnn_reference.py,
which ran musicnn 0.1.0's graph (TF 2.15.1, librosa's log-mel) on fixtures/musicnn_inputs.py.
"""

from pathlib import Path

import numpy as np
import pytest
import torch

from muscall.models.musicnn import pretrained_tagger
from muscall.models.musicnn_frontend import PATCH_FRAMES, MusicnnMel
from tests.models.fixtures.musicnn_inputs import reference_clips

REFERENCE = np.load(Path(__file__).parent / "fixtures" / "musicnn_reference.npz")
MODELS = {"msd": "MSD_musicnn", "mtt": "MTT_musicnn"}


def _patches(mel: torch.Tensor) -> torch.Tensor:
    """(1, 1, 96, frames) -> non-overlapping 3 s patches (P, 1, 96, 187), as musicnn cuts them."""
    count = mel.shape[-1] // PATCH_FRAMES
    return torch.cat([mel[..., i * PATCH_FRAMES : (i + 1) * PATCH_FRAMES] for i in range(count)])


def _port_probabilities(name: str) -> np.ndarray:
    tagger, frontend = pretrained_tagger(name), MusicnnMel()
    clips = reference_clips()
    assert list(clips) == list(REFERENCE["names"])
    with torch.no_grad():
        mels = [frontend(torch.from_numpy(clip)[None]) for clip in clips.values()]
        return torch.sigmoid(tagger(torch.cat([_patches(m) for m in mels]))).numpy()


@pytest.mark.parametrize("name", ["msd", "mtt"])
def test_tag_probabilities_match_tensorflow(name):
    expected = REFERENCE[MODELS[name]]
    assert expected.shape == (3 * int(REFERENCE["patches_per_clip"]), 50)
    np.testing.assert_allclose(_port_probabilities(name), expected, atol=1e-4, rtol=0)
    # The clips differ enough for a wrong layer to show: the tags move between them.
    assert np.ptp(expected, axis=0).max() > 0.1


def test_network_alone_matches_on_librosas_features():
    mel = torch.from_numpy(REFERENCE["log_mel_first_patch"]).T[None, None]  # (1, 1, 96, 187)
    with torch.no_grad():
        probs = torch.sigmoid(pretrained_tagger("msd")(mel)).numpy()
    np.testing.assert_allclose(probs[0], REFERENCE["MSD_musicnn"][0], atol=1e-5, rtol=0)


def test_front_end_matches_librosa():
    clip = next(iter(reference_clips().values()))
    with torch.no_grad():
        mel = MusicnnMel()(torch.from_numpy(clip)[None])[0, 0, :, :PATCH_FRAMES].T.numpy()
    np.testing.assert_allclose(mel, REFERENCE["log_mel_first_patch"], atol=2e-4, rtol=0)
