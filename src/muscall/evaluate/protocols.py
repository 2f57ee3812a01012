"""The benchmark protocols and published figures (conf/benchmark/*.yaml), and each
protocol's own item list, so a card names every item that was not evaluated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf

from muscall.config import CONFIG_DIR
from muscall.errors import MuscallError

PROTOCOLS_FILE = CONFIG_DIR / "benchmark" / "protocols.yaml"
PUBLISHED_FILE = CONFIG_DIR / "benchmark" / "published.yaml"


@dataclass(frozen=True)
class Protocol:
    """How one benchmark is evaluated and what the literature counts and reports for it."""

    name: str
    title: str
    task: str  # "zeroshot" or "retrieval"
    overrides: tuple[str, ...]
    protocol: str
    metrics: tuple[str, ...]
    expected: dict[str, int | None]
    expected_source: str
    set: str | None = None
    split: str | None = None
    split_protocol: str | None = None
    listed: str | None = None


def load_protocols(path: Path = PROTOCOLS_FILE) -> dict[str, Protocol]:
    raw = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    return {
        name: Protocol(
            name=name,
            title=entry["title"],
            task=entry["task"],
            overrides=tuple(entry["overrides"]),
            protocol=entry["protocol"],
            metrics=tuple(entry["metrics"]),
            expected=dict(entry["expected"]),
            expected_source=entry["expected_source"],
            set=entry.get("set"),
            split=entry.get("split"),
            split_protocol=entry.get("split_protocol"),
            listed=entry.get("listed"),
        )
        for name, entry in raw.items()
    }


def load_published(path: Path = PUBLISHED_FILE) -> dict[str, list[dict]]:
    """{benchmark: [{model, metrics, source, note}]}."""
    return OmegaConf.to_container(OmegaConf.load(path), resolve=True)


def choose(protocols: dict[str, Protocol], names) -> list[Protocol]:
    """The protocols named, in the order given; an unknown name is a one-line error."""
    unknown = [name for name in names if name not in protocols]
    if unknown:
        raise MuscallError(
            f"benchmarks: unknown {', '.join(map(str, unknown))}; "
            f"known: {', '.join(protocols)} ({PROTOCOLS_FILE})"
        )
    return [protocols[name] for name in names]


def listed_items(protocol: Protocol, prepare_report: dict) -> tuple[list[str], dict] | None:
    """The protocol's own item ids and counts, or None when it has no list here."""
    if protocol.listed is None:
        return None
    return LISTS[protocol.listed](prepare_report)


def gtzan_filtered_test(_report: dict) -> tuple[list[str], dict]:
    from torchaudio.datasets import gtzan

    ids = list(gtzan.filtered_test)
    return ids, {"items": len(ids)}


def musiccaps_eval(report: dict) -> tuple[list[str], dict] | None:
    """The is_audioset_eval clips of the CSV that task=prepare read, when it is still there."""
    from muscall.prepare import musiccaps

    csv = Path(report.get("source", "")) / musiccaps.CSV_NAME
    if not report.get("source") or not csv.is_file():
        return None
    ids = [clip.ytid for clip in musiccaps.read_csv(csv) if clip.is_eval]
    return ids, {"tracks": len(ids), "captions": len(ids)}


def song_describer_valid(report: dict) -> tuple[list[str], dict] | None:
    """The tracks with a validated caption in the CSV that task=prepare read."""
    from muscall.prepare import song_describer

    csv = Path(report.get("source", "")) / song_describer.CSV_NAME
    if not report.get("source") or not csv.is_file():
        return None
    tracks = song_describer.read_csv(csv).values()
    valid = {t.track_id: sum(ok for _, ok in t.captions) for t in tracks}
    ids = [track for track, count in valid.items() if count]
    return ids, {"tracks": len(ids), "captions": sum(valid.values())}


LISTS = {
    "gtzan_filtered_test": gtzan_filtered_test,
    "musiccaps_eval": musiccaps_eval,
    "song_describer_valid": song_describer_valid,
}
