"""The musicnn audio tower: pretrained features, frozen or not, unfrozen on schedule."""

import pytest
import torch

from muscall.models import MusicnnAudioEncoder, MusicnnMel, musicnn_weights
from muscall.models.musicnn import pretrained_tagger
from muscall.models.saved_weights import weights_from_saved_state


def _mel(seconds: float = 1.0) -> torch.Tensor:
    wave = 0.2 * torch.randn(2, int(16000 * seconds), generator=torch.Generator().manual_seed(0))
    return MusicnnMel()(wave)


def test_features_are_the_pretrained_pooled_mid_end():
    tower = MusicnnAudioEncoder(weights="mtt").eval()
    mel = _mel()
    with torch.no_grad():
        torch.testing.assert_close(tower(mel), pretrained_tagger("mtt").body(mel))
    assert tower(mel).shape == (2, tower.output_dim) == (2, 1506)


def test_frozen_for_good_trains_nothing_and_keeps_musicnns_statistics():
    tower = MusicnnAudioEncoder(weights="msd", freeze=True).train()
    assert not any(p.requires_grad for p in tower.parameters())
    before = tower.body.pool_bn.running_mean.clone()
    tower(_mel())
    assert not tower.body.training
    torch.testing.assert_close(tower.body.pool_bn.running_mean, before)


def test_unfrozen_after_n_epochs():
    tower = MusicnnAudioEncoder(weights="msd", freeze=True, unfreeze_after_epochs=2).train()
    # Trainable weights that get no gradient while frozen (the optimiser skips them).
    assert all(p.requires_grad for p in tower.parameters())
    for epoch, frozen in ((0, True), (1, True), (2, False), (3, False)):
        tower.start_epoch(epoch)
        assert tower.frozen is frozen and tower.body.training is not frozen
        assert tower(_mel()).requires_grad is not frozen


def test_not_frozen_trains_from_the_start():
    tower = MusicnnAudioEncoder(weights=None, freeze=False).train()
    tower(_mel()).sum().backward()
    assert tower.body.timbral[0].weight.grad is not None and tower.body.training


def test_unfreezing_needs_a_frozen_start():
    with pytest.raises(ValueError, match="needs freeze: true"):
        MusicnnAudioEncoder(freeze=False, unfreeze_after_epochs=1)


def test_rebuilt_for_saved_weights_it_never_reads_the_package(monkeypatch):
    def no_package(name):
        raise AssertionError("the packaged weights were read")

    monkeypatch.setattr(musicnn_weights, "load_musicnn_tensors", no_package)
    with weights_from_saved_state():
        tower = MusicnnAudioEncoder(weights="msd")
    assert tower.output_dim == 1506
