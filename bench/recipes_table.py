"""The Markdown table of bench/recipes.py's JSON: every run, then the mean of each recipe."""

from __future__ import annotations

from statistics import mean

ATTRIBUTES = ("instrument", "tempo", "mode", "percussion", "register", "dynamics")
RETRIEVAL = ("R@1", "R@5", "R@10")


def _number(value, digits: int = 0) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _zeroshot(zeroshot: dict, attribute: str) -> str:
    value = zeroshot.get(attribute)
    return "–" if value is None else f"{value:.0f}"


def _ceiling(ceiling: dict | None) -> str:
    if not ceiling:
        return "–"
    recalls = " / ".join(_number(ceiling[f"text_to_audio_{k}"]) for k in RETRIEVAL)
    return f"{recalls}, {ceiling['text_to_audio_mean_rank']:.2f}"


def _attributes(runs: list[dict]) -> list[str]:
    return [a for a in ATTRIBUTES if any(a in run["zeroshot"] for run in runs)]


def run_rows(result: dict) -> list[str]:
    attributes = _attributes(result["runs"])
    header = ["dataset", "recipe", "seed", "budget min", "text→audio R@1 / R@5 / R@10", "mean rank",
              "ceiling (R@1 / R@5 / R@10, mean rank)", *[f"zero-shot {a}" for a in attributes],
              "epochs", "stopped by", "wall s", "load avg before → after"]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for run in result["runs"]:
        recalls = " / ".join(_number(run.get(f"test/text_to_audio_{k}")) for k in RETRIEVAL)
        before, after = run["load_average_before"][0], run["load_average_after"][0]
        cells = [run["dataset"], f"`{run['recipe']}`", str(run["seed"]), str(run["minutes"]), recalls,
                 _number(run.get("test/text_to_audio_mean_rank"), 2),
                 _ceiling(result["ceilings"].get(run["dataset"])),
                 *[_zeroshot(run["zeroshot"], a) for a in attributes],
                 _number(run.get("epochs")), run["stop"], _number(run["wall_seconds"]),
                 f"{before:.1f} → {after:.1f}"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def mean_rows(result: dict) -> list[str]:
    attributes = _attributes(result["runs"])
    header = ["dataset", "recipe", "budget min", "seeds", "R@5", "mean rank", *attributes]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    groups: dict[tuple, list[dict]] = {}
    for run in result["runs"]:
        groups.setdefault((run["dataset"], run["recipe"], run["minutes"]), []).append(run)
    for (dataset, recipe, minutes), runs in groups.items():
        r5 = mean(r["test/text_to_audio_R@5"] for r in runs)
        rank = mean(r["test/text_to_audio_mean_rank"] for r in runs)
        zs = [mean(r["zeroshot"][a] for r in runs) if all(a in r["zeroshot"] for r in runs)
              else None for a in attributes]  # fmt: skip
        cells = [dataset, f"`{recipe}`", str(minutes), str(len(runs)), _number(r5, 1), _number(rank, 2),
                 *[_zeroshot({"x": z}, "x") if z is not None else "–" for z in zs]]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def markdown(result: dict) -> str:
    """The runs table, the means table, and how they were made."""
    commands = "; ".join(f"`{c}`" for c in result["commands"])
    lines = ["# Recipes on the held-out and built-in data", "",
             f"Machine: {result['machine']}. Commands: {commands}.", "",
             "Zero-shot: accuracy in percent per attribute (the built-in instrument families: "
             "macro ROC-AUC in percent). Ceiling: an ideal model ranking at random among the "
             "clips whose attributes are all equal (held-out only; bench/heldout/ceiling.py).",
             "", *run_rows(result), "", "Means over seeds:", "", *mean_rows(result), ""]  # fmt: skip
    for dataset, ceiling in result["ceilings"].items():
        if ceiling and ceiling.get("deaf_to"):
            deaf = "; ".join(f"{a} {_ceiling(c)}" for a, c in ceiling["deaf_to"].items())
            lines += [f"Ceiling on {dataset} of a model deaf to one attribute (R@1 / R@5 / R@10, "
                      f"mean rank): {deaf}.", ""]  # fmt: skip
        if ceiling and ceiling.get("audibility"):
            heard = ", ".join(f"{a} {v:.0f}" for a, v in ceiling["audibility"].items())
            lines += [f"Audibility on {dataset} (a linear probe on hand-made signal features, "
                      f"bench/heldout/audibility.py; test accuracy %): {heard}.", ""]  # fmt: skip
    return "\n".join(lines)
