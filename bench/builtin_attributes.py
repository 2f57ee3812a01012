"""Per-attribute zero-shot sets of the built-in dataset, from the attributes its split records.

    python bench/builtin_attributes.py DATA_ROOT

Writes DATA_ROOT/attributes/{tempo,mode,percussion,dynamics,instrument}.json from the test
split (`muscall.synth` records each clip's attributes in its entry), in the layout the
held-out set uses, so `zeroshot=attributes` reads either. Tempo keeps the slow and fast clips
(moderate ones are left out: the question is slow vs fast); instrument is a tagging set of
the melodic families (a clip has several), scored by ROC-AUC rather than accuracy.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from muscall.data.json_io import read_json, write_json

SETS_DIR = "attributes"
# The words the built-in captions use for each value, as zero-shot labels and prompts.
TEMPLATES = {
    "tempo": ("a {} track", "{} music", "a {} song"),
    "mode": ("a song in a {} key", "{} key music"),
    "percussion": ("{}", "a track with {}", "music with {}"),
    "dynamics": ("a {} track", "{} music", "a {} song"),
    "instrument": ("a {} track", "{} music", "a piece of {} music"),
}


def _label(attribute: str, attributes: dict) -> str | None:
    if attribute == "tempo":
        return attributes["tempo"] if attributes["tempo"] in ("slow", "fast") else None
    if attribute == "percussion":
        return "drums" if attributes["has_drums"] else "no drums"
    return attributes[attribute]


def write_sets(root: Path, name: str = "synthmusic") -> list[Path]:
    """The five sets of `root`'s test split; returns the files written."""
    entries = read_json(root / f"{name}_test.json", "built-in test split")
    written = []
    for attribute in ("tempo", "mode", "percussion", "dynamics"):
        items = [
            {"audio_path": f"../{e['audio_path']}", "label": label}
            for e in entries
            if (label := _label(attribute, e["attributes"])) is not None
        ]
        labels = sorted({item["label"] for item in items})
        written.append(_write(root, attribute, "classification", labels, items))
    tags = [{"audio_path": f"../{e['audio_path']}",
             "labels": [f for f in e["attributes"]["families"] if f != "drums"]} for e in entries]  # fmt: skip
    counts = {tag: sum(tag in i["labels"] for i in tags) for i in tags for tag in i["labels"]}
    # A family every test clip has, or none has, has no ROC-AUC.
    families = sorted(tag for tag, count in counts.items() if count < len(tags))
    for item in tags:
        item["labels"] = [tag for tag in item["labels"] if tag in families]
    written.append(_write(root, "instrument", "tagging", families, tags))
    return written


def _write(root: Path, attribute: str, kind: str, labels: list, items: list) -> Path:
    path = root / SETS_DIR / f"{attribute}.json"
    write_json(path, {"type": kind, "labels": labels, "templates": list(TEMPLATES[attribute]),
                      "items": items})  # fmt: skip
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--name", default="synthmusic")
    args = parser.parse_args(argv)
    for path in write_sets(args.root, args.name):
        print(path)


if __name__ == "__main__":
    main()
