import hashlib
import json

import pytest
import torch

from muscall.errors import MuscallError
from muscall.tasks import benchmark, retrieval, zeroshot

from .benchmark_data import GTZAN_ITEMS, write_benchmark_data, write_gtzan

# Small, fast runs: a few hundred resamples are enough to test the intervals' behaviour.
COMMON = ["data.num_workers=0", "trainer=cpu", "plots.enabled=false", "bootstrap.resamples=200"]


@pytest.fixture(scope="module")
def bench_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    return write_benchmark_data(root / "data", root / "downloads")


def _run(compose_command_line, out, data_dir, ckpt, *extra):
    overrides = ["task=benchmark", f"ckpt_path={ckpt}", f"paths.data_dir={data_dir}", *COMMON]
    cfg = compose_command_line(out, [*overrides, *extra])
    metrics = benchmark.run(cfg)
    return (
        metrics,
        json.loads((out / "benchmark.json").read_text()),
        (out / "benchmark.md").read_text(),
    )


@pytest.fixture(scope="module")
def one_run(bench_data, tiny_checkpoint, tmp_path_factory):
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict

    from muscall.config import compose_config

    out = tmp_path_factory.mktemp("bench_run")
    overrides = [
        "task=benchmark",
        f"ckpt_path={tiny_checkpoint}",
        f"paths.data_dir={bench_data}",
        *COMMON,
    ]
    cfg = compose_config(overrides, out, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    try:
        metrics = benchmark.run(cfg)
    finally:
        HydraConfig.instance().cfg = None
    report = json.loads((out / "benchmark.json").read_text())
    return metrics, report, (out / "benchmark.md").read_text(), out


def test_one_command_writes_every_benchmark_with_counts_intervals_cards_and_published(
    one_run, tiny_checkpoint
):
    _, report, md, _ = one_run
    assert list(report["benchmarks"]) == ["gtzan", "mtt", "musiccaps", "song_describer"]
    assert report["bootstrap"]["seed"] == 0 and report["bootstrap"]["resamples"] == 200
    sha = hashlib.sha256(tiny_checkpoint.read_bytes()).hexdigest()
    assert report["checkpoints"][0]["sha256"] == sha
    assert sha in md
    for name, entry in report["benchmarks"].items():
        for metric in entry["metrics"]:
            figure = entry["results"][0][metric]
            assert figure["low"] <= figure["value"] <= figure["high"], (name, metric)
        card = entry["cards"][0]
        assert card["sample_rate"] == 16000 and card["crop"] == "windows"
        assert card["window_seconds"] == 1.0
    cards = {name: entry["cards"][0] for name, entry in report["benchmarks"].items()}
    assert cards["gtzan"]["templates"] and "{}" in cards["gtzan"]["templates"][0]
    assert cards["gtzan"]["checkpoint"]["sha256"] == sha and cards["gtzan"]["muscall_version"]
    assert "blues.00015" in (one_run[3] / "benchmarks/gtzan/bad_items.jsonl").read_text()
    assert cards["musiccaps"]["templates"] is None
    assert cards["song_describer"]["evaluated"] == {"tracks": 16, "captions": 24}
    published = report["benchmarks"]["gtzan"]["published"]
    assert {p["model"].split()[0] for p in published} >= {"LAION-CLAP", "M2D-CLAP"}
    assert all(p["source"] for p in published)
    assert "LAION-CLAP music_audioset_epoch_15_esc_90.14 (published)" in md


def test_the_incomplete_set_is_flagged_in_the_table_and_every_missing_item_named(one_run):
    _, report, md, _ = one_run
    gtzan = report["benchmarks"]["gtzan"]["cards"][0]
    evaluated = GTZAN_ITEMS - 1  # one corrupt file
    assert gtzan["evaluated"] == {"items": evaluated}
    assert gtzan["expected"] == {"items": 290}
    assert gtzan["status"] == f"not comparable: {evaluated} of 290 items"
    assert len(gtzan["missing"]) == 290 - evaluated
    assert gtzan["unreadable_at_eval"] == ["blues.00015"]
    assert "blues.00015" in gtzan["missing"]
    row = next(line for line in md.splitlines() if line.startswith("| gtzan | A |"))
    assert f"**not comparable: {evaluated} of 290 items**" in row
    # MusicCaps is complete against its own CSV's eval clips; MTT's count is not verified.
    cards = {name: entry["cards"][0] for name, entry in report["benchmarks"].items()}
    assert cards["musiccaps"]["expected"] == {"tracks": 30, "captions": 30}
    assert cards["musiccaps"]["status"] == "comparable" and cards["musiccaps"]["missing"] == []
    assert cards["mtt"]["status"] == "protocol count not verified"
    assert cards["mtt"]["split_protocol"] == "won2020"
    assert cards["song_describer"]["status"] == "not comparable: 16 of 546 tracks"


def test_the_figures_are_the_per_task_commands_figures(
    one_run, bench_data, tiny_checkpoint, tmp_path, compose_command_line
):
    metrics, _, _, _ = one_run
    common = [f"ckpt_path={tiny_checkpoint}", f"paths.data_dir={bench_data}", *COMMON[:3]]
    zs = zeroshot.run(
        compose_command_line(tmp_path / "z", ["task=zeroshot", "zeroshot=[gtzan,mtt]", *common])
    )
    assert metrics["gtzan/accuracy"] == zs["zeroshot/gtzan/accuracy"]
    assert metrics["mtt/roc_auc_macro"] == zs["zeroshot/mtt/roc_auc_macro"]
    assert metrics["mtt/pr_auc_macro"] == zs["zeroshot/mtt/pr_auc_macro"]
    for data in ("musiccaps", "song_describer"):
        ret = retrieval.run(
            compose_command_line(tmp_path / data, ["task=retrieval", f"data={data}", *common])
        )
        for key in (
            "text_to_audio_R@1",
            "text_to_audio_R@10",
            "audio_to_text_R@5",
            "audio_to_text_median_rank",
        ):
            assert metrics[f"{data}/{key}"] == ret[key], (data, key)


def _perturbed(checkpoint, path):
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    generator = torch.Generator().manual_seed(0)
    for key, value in saved["state_dict"].items():
        # Convolution and linear weights only: noise on batch-norm statistics gives NaNs.
        if "audio_encoder" in key and key.endswith(".weight") and value.ndim > 1:
            value.add_(
                0.5 * value.std().nan_to_num() * torch.randn(value.shape, generator=generator)
            )
    torch.save(saved, path)
    return path


def test_two_checkpoints_get_paired_differences_and_an_exported_folder_equals_its_checkpoint(
    bench_data, tiny_checkpoint, tmp_path, compose_command_line
):
    from muscall.tasks import export

    folder = tmp_path / "model"
    export.run(
        compose_command_line(
            tmp_path / "e", ["task=export", f"ckpt_path={tiny_checkpoint}", f"out={folder}"]
        )
    )
    _, report, md = _run(
        compose_command_line,
        tmp_path / "same",
        bench_data,
        f"[{tiny_checkpoint},{folder}]",
        "benchmarks=[gtzan,musiccaps]",
    )
    for entry in report["benchmarks"].values():
        for metric, diff in entry["difference"].items():
            assert (diff["value"], diff["low"], diff["high"]) == (0.0, 0.0, 0.0), metric
    assert "| gtzan | B − A |" in md

    other = _perturbed(tiny_checkpoint, tmp_path / "other.ckpt")
    _, report, _ = _run(
        compose_command_line,
        tmp_path / "other",
        bench_data,
        f"[{tiny_checkpoint},{other}]",
        "benchmarks=[mtt]",
    )
    moved = 0
    for entry in report["benchmarks"].values():
        a, b = entry["results"]
        for metric, diff in entry["difference"].items():
            assert diff["value"] == pytest.approx(b[metric]["value"] - a[metric]["value"])
            assert diff["low"] <= diff["high"]
            moved += diff["value"] != 0
    assert moved > 0
    assert report["benchmarks"]["mtt"]["paired_items"] == {"items": 36}


def test_default_is_the_prepared_sets_and_a_named_unprepared_one_is_an_error(
    tiny_checkpoint, tmp_path, compose_command_line
):
    data = tmp_path / "data"
    write_gtzan(data)
    _, report, md = _run(compose_command_line, tmp_path / "r", data, tiny_checkpoint)
    assert list(report["benchmarks"]) == ["gtzan"]
    assert set(report["not_prepared"]) == {"mtt", "musiccaps", "song_describer"}
    assert "musiccaps: not prepared" in md
    with pytest.raises(MuscallError, match="benchmarks: mtt is not prepared"):
        _run(compose_command_line, tmp_path / "m", data, tiny_checkpoint, "benchmarks=[mtt]")
    with pytest.raises(MuscallError, match="benchmarks: unknown nope"):
        _run(compose_command_line, tmp_path / "n", data, tiny_checkpoint, "benchmarks=[nope]")
