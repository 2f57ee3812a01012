"""Every config composes; every override a user is told about resolves."""

from pathlib import Path

import pytest
import torch
from hydra.errors import ConfigCompositionException
from hydra.utils import get_class, instantiate
from omegaconf import OmegaConf

from muscall.config import CONFIG_DIR, PROJECT_ROOT, compose_config
from muscall.models.tokenizers import CLIP_VOCAB_SIZE, ClipBPETokenizer
from tests.helpers import hf_models

hf_folders = hf_models.hf_folders  # the tiny Hugging Face models' folders, a session fixture


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


@pytest.mark.parametrize(
    "group", ["task", "data", "model", "loss", "trainer", "logger", "experiment", "debug"]
)
def test_every_option_of_every_group_composes(group, tmp_path):
    for option in _options(group):
        overrides = [f"{group}={option}"]
        if group == "data" and option == "folder":
            overrides.append(f"data.root={tmp_path}")
        if (group, option) == ("task", "prepare"):
            overrides.append(f"source={tmp_path}")
        if (group, option) == ("model", "hf_clap"):
            overrides.append(f"model.net.name_or_path={tmp_path}")
        cfg = compose_config(overrides, tmp_path)
        # Resolving catches broken interpolations and missing mandatory values.
        OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)


def test_paths_are_absolute_and_rooted_in_the_project():
    cfg = compose_config()
    assert Path(cfg.paths.data_dir) == PROJECT_ROOT / "data"
    assert Path(cfg.data.root).is_absolute()


def test_unknown_key_is_rejected_by_name():
    with pytest.raises(ConfigCompositionException, match="data.batchsize"):
        compose_config(["data.batchsize=3"])


def test_user_folder_turns_off_generation_target():
    cfg = compose_config(["data.root=/somewhere/else"])
    assert cfg.data.root != cfg.data.generate.root


# The models built from two towers, which any audio or text option can replace.
DUAL_MODELS = [m for m in _options("model") if m != "hf_clap"]


def _side(group: str, option: str, hf_folders) -> list[str]:
    """The override choosing `option` for a side, with the tiny local model `hf` needs."""
    chosen = [f"model/{group}@model.net={option}"]
    if option == "hf":
        tower, folder = (
            ("text_encoder", "roberta") if group == "text" else ("audio_encoder", "wav2vec2")
        )
        chosen.append(f"model.net.{tower}.name_or_path={hf_folders[folder]}")
    return chosen


@pytest.mark.parametrize("text", _options("model/text"))
@pytest.mark.parametrize("model", DUAL_MODELS)
def test_every_model_composes_and_builds_with_every_text_side(model, text, hf_folders):
    # A model's text sizes come with its text option, so any text option can replace them.
    cfg = compose_config([f"model={model}", *_side("text", text, hf_folders)])
    net = instantiate(cfg.model.net)
    expected = get_class(cfg.model.net.text_encoder._target_)
    assert type(net.text_encoder) is expected
    assert net.embed_text(["a slow piano piece"]).shape == (1, cfg.model.net.embed_dim)


@pytest.mark.parametrize("audio", _options("model/audio"))
@pytest.mark.parametrize("model", DUAL_MODELS)
def test_every_model_composes_and_builds_with_every_audio_side(model, audio, hf_folders):
    cfg = compose_config([f"model={model}", *_side("audio", audio, hf_folders)])
    net = instantiate(cfg.model.net)
    assert type(net.audio_encoder) is get_class(cfg.model.net.audio_encoder._target_)
    wave = torch.randn(2, net.frontend.sample_rate) * 0.1
    assert net.encode_audio(wave).shape == (2, cfg.model.net.embed_dim)


def test_clip_text_sides_size_the_token_table_to_the_tokenizer():
    texts = [t for t in _options("model/text") if t != "hf"]
    nets = [compose_config([f"model/text@model.net={t}"]).model.net for t in texts]
    clip = [net for net in nets if get_class(net.tokenizer._target_) is ClipBPETokenizer]
    assert clip and all(net.text_encoder.vocab_size == CLIP_VOCAB_SIZE for net in clip)


@pytest.mark.parametrize("audio", _options("model/audio"))
def test_every_audio_side_builds_and_embeds(audio, tmp_path, hf_folders):
    cfg = compose_config(_side("audio", audio, hf_folders), tmp_path)
    frontend = instantiate(cfg.model.net.frontend)
    encoder = instantiate(cfg.model.net.audio_encoder)
    assert type(encoder) is get_class(cfg.model.net.audio_encoder._target_)
    with torch.no_grad():
        features = encoder(frontend(0.1 * torch.randn(1, 16000)))
    assert features.shape == (1, encoder.output_dim)


@pytest.mark.parametrize("model", DUAL_MODELS)
def test_every_audio_side_replaces_every_models_own(model, tmp_path, hf_folders):
    # A model's audio sizes come with its audio option, so any audio option can replace them.
    for audio in _options("model/audio"):
        side = _side("audio", audio, hf_folders)
        alone = compose_config(side, tmp_path).model.net
        cfg = compose_config([f"model={model}", *side], tmp_path)
        for part in ("frontend", "audio_encoder"):
            assert cfg.model.net[part] == alone[part], (model, audio, part)


@pytest.mark.parametrize("experiment", _options("experiment"))
def test_pretrained_audio_composes_with_every_experiment_and_text_side(
    experiment, tmp_path, hf_folders
):
    for text in _options("model/text"):
        overrides = [f"experiment={experiment}", "model/audio@model.net=musicnn_msd"]
        cfg = compose_config([*overrides, *_side("text", text, hf_folders)], tmp_path)
        OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
        assert cfg.model.net.audio_encoder.weights == "msd"
