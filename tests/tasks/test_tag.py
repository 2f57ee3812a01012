"""task=tag: musicnn's tag probabilities per file, the patch mean, bad files named not fatal."""

import json

import numpy as np
import pytest
import soundfile as sf

from muscall.config import compose_config
from muscall.errors import MuscallError
from muscall.models.musicnn_tagging import MIN_SAMPLES, MusicnnTagging
from muscall.models.musicnn_tags import MSD_TAGS, MTT_TAGS
from muscall.tasks import tag
from tests.models.fixtures.musicnn_inputs import reference_clips


@pytest.fixture(scope="module")
def music(tmp_path_factory):
    """A nested folder: a stereo clip, a FLAC one, a short one, a broken file."""
    root = tmp_path_factory.mktemp("music")
    clips = reference_clips()
    (root / "album").mkdir()
    stereo = np.stack([clips["chord"], clips["chord"]], axis=1)
    sf.write(root / "album" / "chord.wav", stereo, 16000)
    sf.write(root / "groove.flac", clips["groove"], 16000)
    sf.write(root / "short.wav", clips["noise"][:8000], 16000)
    (root / "broken.wav").write_bytes(b"RIFF not really a wave file")
    return root


def test_every_file_gets_every_tag_and_bad_files_are_named(music, tmp_path, capsys):
    cfg = compose_config(["task=tag", f"source={music}", "tagger=mtt"], tmp_path)
    metrics = tag.run(cfg)
    assert metrics == {"tagged": 3.0, "skipped": 1.0}
    lines = [json.loads(line) for line in (tmp_path / "tags.jsonl").read_text().splitlines()]
    assert sorted(line["path"] for line in lines) == sorted(
        str(music / name) for name in ("album/chord.wav", "groove.flac", "short.wav")
    )
    for line in lines:
        assert list(line["tags"]) == list(MTT_TAGS)
        assert all(0.0 <= p <= 1.0 for p in line["tags"].values())
    printed = capsys.readouterr().out
    assert "chord.wav: " in printed and "skipped 1" in printed


def test_a_track_is_the_mean_of_its_patches_as_musicnn_computes_it():
    tagging = MusicnnTagging("msd")
    wave = reference_clips()["groove"]
    per_patch = tagging.patch_probabilities(wave)
    assert per_patch.shape == (2, len(MSD_TAGS))
    np.testing.assert_allclose(tagging.probabilities(wave), per_patch.mean(axis=0))
    # A trailing partial patch is dropped, as musicnn's extractor does.
    longer = np.concatenate([wave, wave[:20000]])
    np.testing.assert_allclose(tagging.patch_probabilities(longer), per_patch, atol=1e-5)


def test_a_short_track_is_repeated_to_one_patch():
    tagging = MusicnnTagging("msd")
    short = reference_clips()["noise"][:5000]
    assert tagging.patches(short).shape == (1, 1, 96, 187)
    assert short.shape[0] < MIN_SAMPLES


def test_a_single_file_and_the_errors_a_user_can_make(music, tmp_path):
    cfg = compose_config(["task=tag", f"source={music / 'groove.flac'}"], tmp_path)
    assert tag.run(cfg)["tagged"] == 1.0
    line = json.loads((tmp_path / "tags.jsonl").read_text())
    assert list(line["tags"]) == list(MSD_TAGS)  # tagger=msd by default
    with pytest.raises(MuscallError, match="source="):
        tag.run(compose_config(["task=tag", f"source={music / 'nowhere'}"], tmp_path))
    with pytest.raises(MuscallError, match="tagger=gtzan"):
        tag.run(compose_config(["task=tag", f"source={music}", "tagger=gtzan"], tmp_path))
