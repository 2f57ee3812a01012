"""The best retrieval a caption allows: an ideal model that ranks at random inside a group.

Every caption names all of a clip's attributes and nothing else, so a model that hears every
attribute perfectly puts the clips of the query's group (equal attributes) first, in an order
nothing in the caption can decide. Over that random order the query's own clip is equally
likely at each of ranks 1..g (g: the group's size), so in expectation

    R@K = min(K, g) / g        mean rank = (g + 1) / 2

averaged over queries (every caption of every clip). Exact, no simulation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence

RECALL_AT = (1, 5, 10)


def ceiling(groups: Sequence[Hashable], captions_per_clip: Sequence[int]) -> dict[str, float]:
    """Expected text->audio R@1/5/10 (percent) and mean rank of the ideal model.

    `groups[i]`: clip i's attribute key; `captions_per_clip[i]`: its number of queries.
    """
    if len(groups) != len(captions_per_clip) or not groups:
        raise ValueError("ceiling: one group key and one caption count per clip, at least one")
    size = Counter(groups)
    queries = sum(captions_per_clip)
    if queries <= 0:
        raise ValueError("ceiling: no captions, so no queries")
    metrics = {}
    for k in RECALL_AT:
        hit = sum(
            n * min(k, size[g]) / size[g] for g, n in zip(groups, captions_per_clip, strict=True)
        )
        metrics[f"text_to_audio_R@{k}"] = 100.0 * hit / queries
    rank = sum(n * (size[g] + 1) / 2 for g, n in zip(groups, captions_per_clip, strict=True))
    metrics["text_to_audio_mean_rank"] = rank / queries
    metrics["num_groups"] = float(len(size))
    metrics["largest_group"] = float(max(size.values()))
    return metrics


if __name__ == "__main__":  # python -m bench.heldout.ceiling DATA_ROOT: rewrite ceiling.json
    import json
    import sys
    from pathlib import Path

    from bench.heldout.layout import rewrite_ceiling

    print(json.dumps(rewrite_ceiling(Path(sys.argv[1])), indent=1))
