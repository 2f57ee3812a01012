"""Training and validating on MusicCaps-length captions report their lengths and what is cut."""

import json
import logging

import pytest

from muscall.config import compose_config
from muscall.data.caption_lengths import REPORT_FILE
from muscall.tasks import train, validate
from tests.helpers.audio import write_tone
from tests.helpers.datasets import write_tiny_dataset
from tests.helpers.long_captions import LONG_CAPTIONS
from tests.helpers.prepare import run_prepare

LOGGER = "muscall.data.caption_lengths"


@pytest.fixture(scope="module")
def musiccaps_like(tmp_path_factory):
    """The tiny tone dataset with MusicCaps-length captions, a different one per track."""
    root = write_tiny_dataset(tmp_path_factory.mktemp("data") / "tiny")
    used = 0
    for split in ("train", "val", "test"):
        path = root / f"tiny_{split}.json"
        entries = json.loads(path.read_text())
        for entry in entries:
            entry["caption"] = LONG_CAPTIONS[used % len(LONG_CAPTIONS)]
            used += 1
        path.write_text(json.dumps(entries))
    return root


def test_training_reports_caption_lengths_and_the_defaults_cut_at_most_5_percent(
    musiccaps_like, tmp_path, caplog
):
    overrides = [
        "model=tiny",
        "trainer=cpu",
        "data=folder",
        f"data.root={musiccaps_like}",
        "data.clip_seconds=1.0",
        "data.batch_size=4",
        "data.num_workers=0",
        "trainer.max_epochs=1",
        "trainer.enable_progress_bar=false",
        "task.zeroshot_after_fit=false",
        "task.test_after_fit=false",  # the test split is measured all the same
        "task.check_leakage=false",
        "seed=0",
    ]
    with caplog.at_level(logging.INFO, logger=LOGGER):
        metrics = train.run(compose_config(overrides, tmp_path))
    report = json.loads((tmp_path / REPORT_FILE).read_text())
    assert set(report["splits"]) == {"train", "val", "test"}
    train_split = report["splits"]["train"]
    assert train_split["captions"] == 12 and train_split["p95_tokens"] > 60  # MusicCaps-like
    for split in ("train", "val", "test"):
        share = metrics[f"captions/{split}/truncated_share"]
        assert share == report["splits"][split]["truncated_share"] <= 0.05
        assert metrics[f"captions/{split}/p95_tokens"] <= report["splits"][split]["limit"]
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert "captions/train/p95_tokens" in on_disk
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("caption lengths, train: 12 captions") for line in lines)
    assert not [r for r in caplog.records if r.levelno == logging.WARNING and r.name == LOGGER]


def test_validate_warns_once_when_the_limit_cuts_captions(musiccaps_like, tmp_path, caplog):
    overrides = [
        "task=validate",
        "data=folder",
        f"data.root={musiccaps_like}",
        "workers=0",
        "model=cpu",
        "model.net.text_encoder.context_length=32",  # the old model=cpu limit
    ]
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        validate.run(compose_config(overrides, tmp_path))
    report = json.loads((tmp_path / REPORT_FILE).read_text())
    assert all(s["truncated_share"] == 1.0 for s in report["splits"].values())
    (warning,) = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert "raise model.net.text_encoder.context_length to at least" in warning


def test_prepare_reports_the_written_captions_against_the_tokenizer(tmp_path, caplog):
    source = tmp_path / "music"
    rows = ["path,caption,split"]
    for index, split in enumerate(("train", "train", "val", "test")):
        write_tone(source / f"t{index}.wav", 0.25, 16000, 220.0 * (index + 1))
        rows.append(f'"t{index}.wav","{LONG_CAPTIONS[index]}",{split}')
    (source / "captions.csv").write_text("\n".join(rows) + "\n")
    extra = ("dataset.name=mine", "model=cpu", "model.net.text_encoder.context_length=32")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        report = run_prepare(tmp_path / "run", "folder", source, tmp_path / "mine", *extra)
    lengths = report["caption_lengths"]
    assert lengths["limit_key"] == "model.net.text_encoder.context_length"
    assert lengths["splits"]["train"]["captions"] == 2
    assert all(s["truncated_share"] == 1.0 and s["limit"] == 32 for s in lengths["splits"].values())
    assert len([r for r in caplog.records if r.name == LOGGER]) == 1
