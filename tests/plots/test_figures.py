import logging
import sys
import types

from muscall.plots import figures


def test_a_failing_plot_is_a_warning_naming_it(caplog):
    def broken():
        raise RuntimeError("no ink")

    with caplog.at_level(logging.WARNING, logger="muscall.plots.figures"):
        assert figures.attempt("rank histograms", broken) is None
    assert "rank histograms" in caplog.text and "no ink" in caplog.text


def test_pictures_go_to_the_active_wandb_run_only(monkeypatch, tmp_path):
    logged = []
    fake = types.SimpleNamespace(run=None, Image=lambda path: ("image", path))
    monkeypatch.setitem(sys.modules, "wandb", fake)
    png = tmp_path / "similarity_test.png"
    assert figures.publish([png, None]) == [png]
    assert logged == []  # no run: nothing logged, nothing raised

    fake.run = types.SimpleNamespace(log=logged.append)
    figures.publish([png, None])
    assert logged == [{"plots/similarity_test": ("image", str(png))}]


def test_without_wandb_imported_publishing_imports_nothing(monkeypatch, tmp_path):
    monkeypatch.delitem(sys.modules, "wandb", raising=False)
    assert figures.publish([tmp_path / "a.png"]) == [tmp_path / "a.png"]
    assert "wandb" not in sys.modules


def test_set_names_become_safe_file_names():
    assert figures.file_part("mtt top-50/v2 (clean)") == "mtt_top-50_v2_clean_"
