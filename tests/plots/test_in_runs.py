"""The pictures of real runs: where they land, that they show the reported numbers, and that
neither turning them off nor a failing one changes a run's metrics."""

import json
import logging

import numpy as np
import pytest

from muscall.config import compose_config
from muscall.plots import retrieval as retrieval_plots
from muscall.plots import zeroshot as zeroshot_plots
from muscall.tasks import retrieval, zeroshot

from .conftest import assert_picture

RETRIEVAL_PICTURES = {"retrieval_ranks_test.png", "similarity_test.png", "embedding_map_test.png"}
ZEROSHOT_PICTURES = {"zeroshot_words_confusion.png", "zeroshot_words_embedding_map.png"}


def _eval_overrides(run, task, *extra):
    overrides = [
        f"task={task}",
        "trainer=cpu",
        "data=folder",
        f"data.root={run['data']}",
        "data.num_workers=0",
        f"ckpt_path={run['metrics']['best_checkpoint']}",
        *extra,
    ]
    if task == "zeroshot":
        overrides.append(f"zeroshot.sets={{words: {run['set_file']}}}")
    return overrides


def _spy(monkeypatch, module, name):
    """Record the arguments of the drawing function `module.name`, which still draws."""
    calls, draw = [], getattr(module, name)

    def recording(*args, **kwargs):
        calls.append(args)
        return draw(*args, **kwargs)

    monkeypatch.setattr(module, name, recording)
    return calls


@pytest.fixture(scope="module")
def retrieval_run(small_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("retrieval")
    with pytest.MonkeyPatch.context() as monkeypatch:
        calls = _spy(monkeypatch, retrieval_plots, "rank_histograms")
        metrics = retrieval.run(compose_config(_eval_overrides(small_run, "retrieval"), out))
    return {"out": out, "metrics": metrics, "ranks": calls[0][0]}


@pytest.fixture(scope="module")
def zeroshot_run(small_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("zeroshot")
    with pytest.MonkeyPatch.context() as monkeypatch:
        calls = _spy(monkeypatch, zeroshot_plots, "confusion_matrix")
        metrics = zeroshot.run(compose_config(_eval_overrides(small_run, "zeroshot"), out))
    predictions, targets, labels = calls[0][:3]
    return {"out": out, "metrics": metrics, "confusion": (predictions, targets, labels)}


def _pictures(out):
    return {path.name for path in (out / "plots").glob("*")}


def test_training_draws_the_post_fit_evaluation(small_run):
    assert _pictures(small_run["out"]) == RETRIEVAL_PICTURES | ZEROSHOT_PICTURES
    for path in (small_run["out"] / "plots").iterdir():
        assert_picture(path)


def test_the_eval_tasks_draw_their_pictures(retrieval_run, zeroshot_run):
    assert _pictures(retrieval_run["out"]) == RETRIEVAL_PICTURES
    assert _pictures(zeroshot_run["out"]) == ZEROSHOT_PICTURES
    for run in (retrieval_run, zeroshot_run):
        for path in (run["out"] / "plots").iterdir():
            assert_picture(path)


def test_the_rank_histograms_show_the_ranks_behind_the_metrics(retrieval_run):
    ranks, metrics = retrieval_run["ranks"], retrieval_run["metrics"]
    assert len(ranks["text_to_audio"]) == metrics["num_captions"]
    assert len(ranks["audio_to_text"]) == metrics["num_tracks"]
    for direction, values in ranks.items():
        assert metrics[f"{direction}_mean_rank"] == pytest.approx(np.mean(values), rel=1e-9)
        assert metrics[f"{direction}_median_rank"] == pytest.approx(np.median(values), rel=1e-9)
        assert metrics[f"{direction}_R@10"] == pytest.approx(100 * np.mean(values <= 10))
    assert metrics["text_to_audio_mean_rank"] > 1  # not a saturated run: the check can fail


def test_the_confusion_matrix_shows_the_reported_accuracy(zeroshot_run):
    predictions, targets, labels = zeroshot_run["confusion"]
    assert len(targets) == zeroshot_run["metrics"]["zeroshot/words/num_items"] == 24
    accuracy = 100 * np.mean(np.asarray(predictions) == np.asarray(targets))
    assert zeroshot_run["metrics"]["zeroshot/words/accuracy"] == pytest.approx(accuracy)


def test_plots_off_draws_nothing(small_run, tmp_path):
    overrides = _eval_overrides(small_run, "zeroshot", "plots.enabled=false")
    zeroshot.run(compose_config(overrides, tmp_path))
    assert (tmp_path / "metrics.json").is_file() and not (tmp_path / "plots").exists()


def test_a_failing_plot_does_not_fail_the_task(
    small_run, zeroshot_run, tmp_path, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("out of ink")

    monkeypatch.setattr(zeroshot_plots, "confusion_matrix", broken)
    with caplog.at_level(logging.WARNING):
        metrics = zeroshot.run(compose_config(_eval_overrides(small_run, "zeroshot"), tmp_path))
    assert "confusion matrix" in caplog.text and "out of ink" in caplog.text
    assert metrics == zeroshot_run["metrics"]
    assert json.loads((tmp_path / "metrics.json").read_text()) == pytest.approx(metrics)
    assert _pictures(tmp_path) == {"zeroshot_words_embedding_map.png"}
