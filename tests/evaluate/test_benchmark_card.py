import hashlib

from muscall.evaluate.benchmark_card import COMPARABLE, comparability, model_sha256
from muscall.evaluate.protocols import gtzan_filtered_test, load_protocols, load_published


def test_every_protocol_names_its_metrics_counts_and_their_source():
    protocols = load_protocols()
    assert list(protocols) == ["gtzan", "mtt", "musiccaps", "song_describer"]
    for protocol in protocols.values():
        assert protocol.metrics and protocol.expected_source and protocol.overrides
    # The count the protocol file states is the length of the protocol's own list.
    ids, counts = gtzan_filtered_test({})
    assert protocols["gtzan"].expected["items"] == counts["items"] == len(set(ids)) == 290
    assert protocols["song_describer"].expected == {"tracks": 546, "captions": 746}


def test_every_published_figure_has_a_source_and_a_metric_the_benchmark_reports():
    protocols = load_protocols()
    for name, figures in load_published().items():
        for figure in figures:
            assert figure["source"].strip()
            assert set(figure["metrics"]) <= set(protocols[name].metrics)


def test_comparability_names_what_is_short_or_which_split():
    protocols = load_protocols()
    gtzan, mtt = protocols["gtzan"], protocols["mtt"]
    assert comparability(gtzan, {"items": 290}, {"items": 290}, None) == COMPARABLE
    assert comparability(gtzan, {"items": 290}, {"items": 289}, None) == (
        "not comparable: 289 of 290 items"
    )
    assert comparability(mtt, {"items": None}, {"items": 10}, "folders") == (
        "not comparable: split folders, not won2020"
    )
    assert comparability(mtt, {"items": None}, {"items": 10}, "won2020") == (
        "protocol count not verified"
    )


def test_a_folders_digest_covers_every_file_and_its_name(tmp_path):
    file = tmp_path / "a.ckpt"
    file.write_bytes(b"weights")
    assert model_sha256(file) == hashlib.sha256(b"weights").hexdigest()
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"w")
    before = model_sha256(folder)
    (folder / "model.safetensors").write_bytes(b"x")
    assert model_sha256(folder) != before
