import json

import pytest
from omegaconf import OmegaConf

from muscall.data.zeroshot_sets import ZeroShotSets
from muscall.errors import DatasetError


def _set_file(path, labels):
    items = [{"audio_path": f"{i}.wav", "label": label} for i, label in enumerate(labels)]
    path.write_text(json.dumps({"type": "classification", "items": items}))
    return path


def test_missing_files_are_skipped_and_present_ones_served_once(tmp_path, caplog):
    genre = _set_file(tmp_path / "genre.json", ["rock", "jazz"])
    cfg = OmegaConf.create({"sets": {"genre": str(genre), "gone": str(tmp_path / "no.json")}})
    sets = ZeroShotSets.from_config(cfg)
    assert list(sets) == ["genre"] and len(sets) == 1
    assert "'gone' skipped" in caplog.text
    first = sets["genre"]
    assert first.labels == ("jazz", "rock") and first is sets["genre"]  # read once
    with pytest.raises(DatasetError, match="no set named 'tags'.*known: genre"):
        sets["tags"]


def test_no_configured_sets_is_empty():
    assert not ZeroShotSets.from_config(OmegaConf.create({"sets": None}))
    assert not ZeroShotSets()
