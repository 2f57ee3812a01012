"""python -m bench.heldout [--root data/heldout] [--clips 600] [--seconds 6] [--workers 2]"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.heldout.build import build

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the held-out captioned music set.")
    parser.add_argument("--root", type=Path, default=ROOT / "data" / "heldout")
    parser.add_argument("--clips", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--val", type=int, default=100)
    parser.add_argument("--test", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    manifest = build(args.root, num_clips=args.clips, clip_seconds=args.seconds, seed=args.seed,
                     val=args.val, test=args.test, workers=args.workers)  # fmt: skip
    print(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main()
