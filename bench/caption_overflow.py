"""Real captions against every text option's limit, and what to do with a caption beyond it.

    python bench/caption_overflow.py --csv musiccaps-public.csv [--limits 32 64] [--sample 400]

`--csv` is MusicCaps' published index (its `caption` column; not shipped here). Writes
bench/results/captions-musiccaps.json:
- `lengths`: per model option of conf/model/, the captions' length in its text option's
  tokens (median, p95, p99, max) and the share its limit cuts (muscall.data.caption_lengths);
- `overflow`: for a sample of captions longer than each limit, how close three ways of fitting
  them come to the whole caption, with the pretrained all-MiniLM-L6-v2 (the one pretrained text
  encoder here) as the judge: the cosine to the whole caption's embedding, and the whole
  caption's rank among the sample's whole captions (R@1). The ways: `end` (cut at the limit),
  `sentences` (the whole sentences that fit), `average` (whole-sentence chunks that each fit,
  their embeddings averaged).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import re
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from hydra.utils import instantiate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from muscall.config import CONFIG_DIR, compose_config, go_offline  # noqa: E402
from muscall.data.caption_lengths import measure  # noqa: E402
from muscall.models import MiniLMTextEncoder, MiniLMTokenizer  # noqa: E402

go_offline()

OUT = Path(__file__).resolve().parent / "results" / "captions-musiccaps.json"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def read_captions(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["caption"].strip() for row in csv.DictReader(handle) if row["caption"].strip()]


def model_options() -> list[str]:
    return sorted(p.stem for p in (CONFIG_DIR / "model").glob("*.yaml"))


def option_lengths(captions: list[str]) -> dict:
    """Each model option's tokenizer, as its config builds it, measured on every caption."""
    rows = {}
    for option in model_options():
        cfg = compose_config([f"model={option}"])
        tokenizer = instantiate(cfg.model.net.tokenizer)
        stats = measure(captions, tokenizer, "musiccaps")
        rows[option] = {**stats.as_json(), "limit_key": tokenizer.limit_key}
        print(f"{option}: {stats.line()}")
    return rows


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def fit_sentences(text: str, fits) -> str:
    """The longest run of whole leading sentences that fits; the cut text if none does."""
    kept = []
    for sentence in sentences(text):
        if not fits(" ".join([*kept, sentence])):
            break
        kept.append(sentence)
    return " ".join(kept) or text


def chunks(text: str, fits) -> list[str]:
    """Whole sentences packed greedily into chunks that each fit (a long one alone is cut)."""
    out, current = [], []
    for sentence in sentences(text):
        if current and not fits(" ".join([*current, sentence])):
            out.append(" ".join(current))
            current = []
        current.append(sentence)
    return [*out, " ".join(current)] if current else out


@torch.inference_mode()
def embed(encoder, tokenizer, texts: list[str], batch: int = 32) -> torch.Tensor:
    parts = [encoder(tokenizer(texts[i : i + batch])) for i in range(0, len(texts), batch)]
    return F.normalize(torch.cat(parts), dim=-1)


def strategies(encoder, long: list[str], limit: int) -> dict:
    whole_tok, cut_tok = MiniLMTokenizer(512), MiniLMTokenizer(limit)
    fits = lambda text: whole_tok.lengths([text])[0] <= limit  # noqa: E731
    whole = embed(encoder, whole_tok, long)  # (N, 384): the reference
    found = {
        "end": embed(encoder, cut_tok, long),
        "sentences": embed(encoder, cut_tok, [fit_sentences(t, fits) for t in long]),
    }
    pieces = [chunks(t, fits) for t in long]
    flat = embed(encoder, cut_tok, [c for p in pieces for c in p])
    starts = torch.tensor([0, *[len(p) for p in pieces]]).cumsum(0)
    found["average"] = F.normalize(
        torch.stack([flat[a:b].mean(0) for a, b in zip(starts[:-1], starts[1:], strict=True)]),
        dim=-1,
    )
    rows = {}
    for name, emb in found.items():
        similarity = emb @ whole.T  # (N, N)
        own = similarity.diagonal()
        r1 = (similarity.argmax(dim=1) == torch.arange(len(long))).float().mean()
        rows[name] = {"cosine_to_whole": own.mean().item(), "R@1": 100 * r1.item()}
    rows["average"]["chunks_per_caption"] = sum(map(len, pieces)) / len(pieces)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--limits", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--sample", type=int, default=400)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    captions = read_captions(args.csv)
    result = {
        "source": f"{args.csv.name}: {len(captions)} captions",
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
        "torch": torch.__version__,
        "lengths": option_lengths(captions),
        "overflow": {},
    }
    encoder = MiniLMTextEncoder(freeze=True).eval()
    lengths = MiniLMTokenizer(512).lengths(captions)
    for limit in args.limits:
        long = [c for c, n in zip(captions, lengths, strict=True) if n > limit]
        long = random.Random(limit).sample(long, min(args.sample, len(long)))
        start = time.perf_counter()
        rows = strategies(encoder, long, limit)
        result["overflow"][str(limit)] = {"captions": len(long), **rows}
        print(f"limit {limit} ({len(long)} captions, {time.perf_counter() - start:.0f} s): {rows}")
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
