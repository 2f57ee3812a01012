"""Recipes and ablations compose, and each ablation changes only its own design choice."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from muscall.config import CONFIG_DIR, compose_config

ABLATIONS = sorted(p.stem for p in (CONFIG_DIR / "ablation").glob("*.yaml"))
# The config keys each ablation may change, and nothing else.
ALLOWED = {
    "weighted_loss": {"loss."},
    "minilm_frozen": {"model.net.text_encoder.", "model.net.tokenizer."},
    "minilm_finetune": {"model.net.text_encoder.", "model.net.tokenizer.", "model.text_lr_scale"},
    "average_pooling": {"model.net.audio_encoder.pooling"},
    "no_augment": {"augment", "model.augment"},
    "ssl": {"model.ssl_weight"},
}


def _flat(cfg) -> dict:
    container = OmegaConf.to_container(cfg, resolve=False)
    out = {}

    def walk(node, prefix):
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        else:
            out[prefix[:-1]] = node

    walk(container, "")
    return out


def test_every_ablation_is_listed():
    assert sorted(ALLOWED) == ABLATIONS


@pytest.mark.parametrize("experiment", ["muscall_paper", "cpu_demo", "small_data"])
@pytest.mark.parametrize("ablation", ABLATIONS)
def test_an_ablation_is_only_a_delta(experiment, ablation):
    base = _flat(compose_config([f"experiment={experiment}"]))
    changed = _flat(compose_config([f"experiment={experiment}", f"ablation={ablation}"]))
    differing = {k for k in base.keys() | changed.keys() if base.get(k) != changed.get(k)}
    stray = {k for k in differing if not any(k.startswith(a) for a in ALLOWED[ablation])}
    assert not stray, stray


def test_the_paper_recipe_is_the_papers_configuration():
    cfg = compose_config(["experiment=muscall_paper"])
    assert (cfg.data.clip_seconds, cfg.data.batch_size, cfg.trainer.max_epochs) == (20.0, 256, 100)
    assert cfg.trainer.precision == "bf16-mixed" and cfg.model.optimizer.lr == 5e-5
    assert (cfg.augment.wave.noise.p, cfg.augment.wave.pitch.p) == (0.3, 0.4)
    assert cfg.callbacks.model_checkpoint.monitor == "val/text_to_audio_R@10"
