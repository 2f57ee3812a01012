"""benchmark.json and benchmark.md: the figures, their intervals, the cards, published figures."""

from __future__ import annotations

import json
import math
from pathlib import Path

from muscall.atomic import write_text

# How a metric is shown in the table: its name and number format.
LABELS = {
    "accuracy": ("accuracy %", "{:.1f}"),
    "roc_auc_macro": ("ROC-AUC", "{:.3f}"),
    "pr_auc_macro": ("PR-AUC", "{:.3f}"),
}
for _direction, _arrow in (("text_to_audio", "T→M"), ("audio_to_text", "M→T")):
    for _k in (1, 5, 10):
        LABELS[f"{_direction}_R@{_k}"] = (f"{_arrow} R@{_k}", "{:.1f}")
    LABELS[f"{_direction}_median_rank"] = (f"{_arrow} MedR", "{:.1f}")
# Card fields listed in benchmark.md, in this order (lists are counted, then named in the JSON).
CARD_FIELDS = (
    "protocol",
    "split_file",
    "split_protocol",
    "prepare_report",
    "expected",
    "expected_source",
    "evaluated",
    "missing",
    "unreadable_at_eval",
    "templates",
    "sample_rate",
    "crop",
    "window_seconds",
    "hop_seconds",
    "bad_items_file",
    "checkpoint",
    "muscall_version",
)
SHOWN_MISSING = 20


def write_report(report: dict, out: Path) -> tuple[Path, Path]:
    """`<out>/benchmark.json` and `<out>/benchmark.md`, each written whole."""
    text = json.dumps(_clean(report), indent=2, ensure_ascii=False) + "\n"
    json_path = write_text(out / "benchmark.json", text)
    md_path = write_text(out / "benchmark.md", markdown(report))
    return json_path, md_path


def markdown(report: dict) -> str:
    lines = ["# Benchmarks", "", *_header(report), "", *_summary(report)]
    for name, entry in report["benchmarks"].items():
        lines += ["", *_section(name, entry, report)]
    for name, why in report["not_prepared"].items():
        lines += ["", f"- {name}: not prepared ({why})"]
    return "\n".join(lines) + "\n"


def _header(report: dict) -> list[str]:
    boot = report["bootstrap"]
    lines = [
        f"muscall {report['muscall_version']}. Intervals: {boot['level']:.0%} bootstrap "
        f"percentile intervals, {boot['resamples']} resamples of the test items "
        f"(seed {boot['seed']}).",
        "",
    ]
    for label, ckpt in zip(_names(report), report["checkpoints"], strict=True):
        lines.append(f"- {label}: `{ckpt['ckpt_path']}` (sha256 {ckpt['sha256'] or 'n/a'})")
    return lines


def _names(report: dict) -> list[str]:
    return ["A", "B"][: len(report["checkpoints"])]


def _summary(report: dict) -> list[str]:
    lines = [
        "| Benchmark | Model | Items | Status | Figures (95 % interval) |",
        "|---|---|---|---|---|",
    ]
    for name, entry in report["benchmarks"].items():
        for label, result, card in zip(
            _names(report), entry["results"], entry["cards"], strict=True
        ):
            status = card["status"]
            shown = status if status == "comparable" else f"**{status}**"
            cells = ", ".join(_figure(m, result[m]) for m in entry["metrics"])
            lines.append(f"| {name} | {label} | {_items(card)} | {shown} | {cells} |")
        if entry.get("difference"):
            cells = ", ".join(_figure(m, entry["difference"][m]) for m in entry["metrics"])
            paired = ", ".join(f"{n} {unit}" for unit, n in entry["paired_items"].items())
            lines.append(f"| {name} | B − A | paired: {paired} | | {cells} |")
        for published in entry["published"]:
            cells = ", ".join(_figure(m, {"value": v}) for m, v in published["metrics"].items())
            lines.append(f"| {name} | {published['model']} (published) | | | {cells} |")
    return lines


def _items(card: dict) -> str:
    parts = []
    for key, count in card["evaluated"].items():
        expected = card["expected"].get(key)
        parts.append(f"{count} of {expected} {key}" if expected else f"{count} {key}")
    return ", ".join(parts)


def _figure(metric: str, interval: dict) -> str:
    label, fmt = LABELS.get(metric, (metric, "{:.3f}"))
    value = _fmt(fmt, interval["value"])
    if "low" not in interval:
        return f"{label} {value}"
    return f"{label} {value} [{_fmt(fmt, interval['low'])}, {_fmt(fmt, interval['high'])}]"


def _fmt(fmt: str, value) -> str:
    return (
        "n/a"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else fmt.format(value)
    )


def _section(name: str, entry: dict, report: dict) -> list[str]:
    lines = [f"## {name}: {entry['title']}", ""]
    for label, card in zip(_names(report), entry["cards"], strict=True):
        lines.append(f"Protocol card ({label}, status: {card['status']}):")
        lines += [f"- {field}: {_card_value(card, field)}" for field in CARD_FIELDS]
        lines.append("")
    for published in entry["published"]:
        lines.append(
            f"- Published, {published['model']}: {published['source']} ({published['note']})"
        )
    return lines


def _card_value(card: dict, field: str) -> str:
    value = card.get(field)
    if field == "missing":
        shown = ", ".join(value[:SHOWN_MISSING]) or "none"
        more = f" ... and {len(value) - SHOWN_MISSING} more" if len(value) > SHOWN_MISSING else ""
        return f"{len(value)} from {card['missing_from']}: {shown}{more} (all in benchmark.json)"
    if field == "unreadable_at_eval":
        return f"{len(value)}: {', '.join(value) or 'none'}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(f"`{v}`" for v in value)
    return "n/a" if value is None else str(value)


def _clean(value):
    """NaN becomes null, so the file stays valid JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value
