"""task=benchmark: the standard benchmarks of one or two checkpoints, each by its protocol.

Each benchmark is evaluated by the config of its per-task command (`task=zeroshot
zeroshot=gtzan`, `task=retrieval data=musiccaps`, with this command's other overrides) and
the same evaluation functions, so it gets the same figures; muscall.evaluate.benchmark adds
the intervals, muscall.evaluate.benchmark_card the protocol cards.
"""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, ListConfig

from muscall.checkpoint import project_version
from muscall.config import compose_config
from muscall.data.captions import split_path
from muscall.data.zeroshot_sets import ZeroShotSets
from muscall.errors import MuscallError
from muscall.evaluate import benchmark, protocols
from muscall.evaluate.benchmark_card import Setting, model_sha256, protocol_card
from muscall.evaluate.benchmark_report import markdown, write_report
from muscall.runs import evaluation
from muscall.runs.assembly import start_run

log = logging.getLogger(__name__)

# Keys of this command that the per-benchmark command must not inherit.
OWN_KEYS = ("task", "ckpt_path", "benchmarks", "bootstrap", "paths.data_dir", "trainer.accelerator")
OWN_KEYS_OF_DATA = ("data.root", "data.name")


def run(cfg: DictConfig) -> dict[str, float]:
    paths = checkpoint_paths(cfg)
    settings = benchmark.BootstrapSettings(**cfg.bootstrap)
    out = start_run(cfg)
    known = protocols.load_protocols()
    chosen = protocols.choose(known, cfg.benchmarks or list(known))
    published = protocols.load_published()
    entries, not_prepared, records = {}, {}, []
    for protocol in chosen:
        sub = protocol_config(cfg, protocol, out / "benchmarks" / protocol.name)
        split_file = prepared_file(sub, protocol)
        if not split_file.is_file():
            if cfg.benchmarks:
                raise MuscallError(
                    f"benchmarks: {protocol.name} is not prepared ({split_file} not found); "
                    f"run task=prepare dataset={protocol.name} source=DIR"
                )
            not_prepared[protocol.name] = f"{split_file} not found"
            continue
        runs = [evaluate(sub, protocol, split_file, path) for path in paths]
        entries[protocol.name] = summarise(protocol, runs, settings, published)
        records = [record for _, _, record in runs]
    if not entries:
        raise MuscallError(
            f"benchmarks: none of {', '.join(not_prepared)} is prepared under "
            f"{cfg.paths.data_dir}; run task=prepare dataset=<name> source=DIR"
        )
    report = {
        "muscall_version": project_version(),
        "bootstrap": {**vars(settings), "method": "percentile; test items with replacement"},
        "checkpoints": records,
        "benchmarks": entries,
        "not_prepared": not_prepared,
    }
    json_path, _ = write_report(report, out)
    print(markdown(report))
    print(f"task=benchmark -> {json_path} and benchmark.md")
    return flat_metrics(entries)


def checkpoint_paths(cfg: DictConfig) -> list[str]:
    """`ckpt_path`: one model, or a list of two to compare."""
    given = evaluation.require_checkpoint(cfg, "benchmark")
    paths = [str(p) for p in given] if isinstance(given, ListConfig | list) else [str(given)]
    if not 1 <= len(paths) <= 2:
        raise MuscallError(f"ckpt_path: give one checkpoint or two ([A,B]); got {len(paths)}")
    return paths


def protocol_config(cfg: DictConfig, protocol: protocols.Protocol, out: Path) -> DictConfig:
    """The config of the benchmark's per-task command, run from this command's overrides."""
    groups = {override.split("=", 1)[0] for override in protocol.overrides}
    forwarded = [o for o in _command_line() if not _owned(o, groups)]
    overrides = [
        *forwarded,
        f"task={protocol.task}",
        *protocol.overrides,
        f"paths.data_dir={cfg.paths.data_dir}",
        f"trainer.accelerator={cfg.trainer.get('accelerator', 'auto')}",
    ]
    return compose_config(overrides, out)


def _command_line() -> list[str]:
    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def _owned(override: str, groups: set[str]) -> bool:
    key = override.split("=", 1)[0].lstrip("+~")
    prefixes = (*OWN_KEYS, *OWN_KEYS_OF_DATA, *groups)
    return any(key == p or key.startswith(f"{p}.") for p in prefixes)


def prepared_file(sub: DictConfig, protocol: protocols.Protocol) -> Path:
    """The labelled set or split file the benchmark reads, as its data config names it."""
    if protocol.task == "zeroshot":
        return Path(sub.zeroshot.sets[protocol.set]).expanduser()
    root = Path(sub.data.root).expanduser()
    return split_path(root, sub.data.name, protocol.split)


def evaluate(sub: DictConfig, protocol: protocols.Protocol, split_file: Path, path: str):
    """(per-item results, protocol card, checkpoint record) of one model on one benchmark."""
    if protocol.task == "zeroshot":
        sets = ZeroShotSets({protocol.set: split_file})
        opened = evaluation.open_checkpoint(sub, path, sets)
        metrics, details = evaluation.zeroshot_details(opened)
        labelled = sets[protocol.set]
        scored = benchmark.scored_zeroshot(details[0], metrics, labelled.audio_paths)
        split_ids = [Path(p).stem for p in labelled.audio_paths]
        templates, root = list(labelled.templates or opened.templates), split_file.parent.parent
    else:
        opened = evaluation.open_checkpoint(sub, path)
        metrics, details = evaluation.retrieval_details(opened, protocol.split)
        split_ids = [track.audio_id for track in opened.datamodule.tracks(protocol.split)]
        scored = benchmark.scored_retrieval(details, metrics, split_ids)
        templates, root = None, opened.datamodule.root
    card = protocol_card(
        protocol,
        split_file,
        root,
        split_ids,
        scored.evaluated_ids,
        scored.counts,
        _setting(opened, templates),
    )
    record = _checkpoint_record(path, opened)
    bad_items = Path(sub.paths.output_dir) / "bad_items.jsonl"
    card.update(
        checkpoint=record,
        muscall_version=project_version(),
        bad_items_file=str(bad_items) if bad_items.is_file() else None,
    )
    return scored, card, record


def _setting(opened: evaluation.Evaluation, templates: list[str] | None) -> Setting:
    reader = opened.datamodule.eval_reader
    hop = (reader.hop_seconds or reader.clip_seconds) if reader.mode == "windows" else None
    return Setting(reader.sample_rate, reader.mode, reader.clip_seconds, hop, templates)


def _checkpoint_record(path: str, opened: evaluation.Evaluation) -> dict:
    local = Path(path).expanduser()
    return {
        "ckpt_path": path,
        "sha256": model_sha256(local) if local.exists() else None,
        "muscall_version": opened.checkpoint.muscall_version,
    }


def summarise(protocol, runs, settings, published) -> dict:
    """One benchmark's entry of benchmark.json."""
    metrics = list(protocol.metrics)
    entry = {
        "title": protocol.title,
        "metrics": metrics,
        "results": [
            {m: i.as_dict() for m, i in benchmark.intervals(scored, metrics, settings).items()}
            for scored, _, _ in runs
        ],
        "cards": [card for _, card, _ in runs],
        "published": published.get(protocol.name) or [],
    }
    if len(runs) == 2:
        diff, paired = benchmark.differences(runs[0][0], runs[1][0], metrics, settings)
        entry["difference"] = {m: i.as_dict() for m, i in diff.items()}
        entry["paired_items"] = paired
    return entry


def flat_metrics(entries: dict) -> dict[str, float]:
    """`<benchmark>/<metric>` of the first checkpoint, `<benchmark>/diff/<metric>` of B − A."""
    flat = {}
    for name, entry in entries.items():
        for metric, interval in entry["results"][0].items():
            flat[f"{name}/{metric}"] = interval["value"]
        for metric, interval in (entry.get("difference") or {}).items():
            flat[f"{name}/diff/{metric}"] = interval["value"]
    return flat
