import pytest

from muscall.config import compose_config
from muscall.errors import MuscallError
from muscall.tasks import generate


def test_generate_renders_once_then_finds_the_dataset(tmp_path):
    root = tmp_path / "synth"
    overrides = [
        "task=generate",
        f"data.generate.root={root}",
        "data.generate.num_clips=12",
        "data.generate.clip_seconds=2.0",
        "data.generate.workers=1",
    ]
    first = generate.run(compose_config(overrides, tmp_path / "out"))
    assert first["clips"] == 12 and first["built"] == 1.0
    assert sorted(p.name for p in root.glob("*.json")) == [
        "manifest.json",
        "synthmusic_test.json",
        "synthmusic_train.json",
        "synthmusic_val.json",
    ]
    again = generate.run(compose_config(overrides, tmp_path / "out2"))
    assert again["built"] == 0.0


def test_generate_needs_a_generator_config(tmp_path):
    cfg = compose_config(["task=generate", "data=folder", f"data.root={tmp_path}"], tmp_path)
    with pytest.raises(MuscallError, match="data.generate"):
        generate.run(cfg)
