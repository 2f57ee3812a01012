"""Zero-shot classification and tagging: labels become texts through prompt templates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from muscall.data.labelled import LabelledSet
from muscall.data.zeroshot_sets import ZeroShotSets
from muscall.errors import DatasetError
from muscall.evaluate.classification import classification_metrics, per_tag_auc, summarise_tags
from muscall.evaluate.embed import embed_audio


@dataclass(frozen=True)
class ZeroShotDetails:
    """What one set's zero-shot metrics were computed from."""

    name: str
    type: str  # "classification" or "tagging"
    labels: tuple[str, ...]
    scores: torch.Tensor  # (N, C) cosine similarity of each clip and each label's prompts
    targets: torch.Tensor  # (N,) class indices, or (N, C) multi-hot for tagging
    audio_emb: torch.Tensor  # (N, D) unit norm
    label_emb: torch.Tensor  # (C, D) unit norm
    tag_auc: dict[int, tuple[float, float]] | None  # tagging: (ROC-AUC, PR-AUC) by tag index
    item_indices: tuple[int, ...] = ()  # (N,) each row's item in the labelled set


@torch.inference_mode()
def class_embeddings(net, labels: Sequence[str], templates: Sequence[str]) -> torch.Tensor:
    """One unit vector per label: the mean of its prompts' embeddings (a prompt ensemble)."""
    if not templates or any("{}" not in t for t in templates):
        raise ValueError(f"zero-shot templates need a '{{}}' slot for the label: {list(templates)}")
    prompts = [t.format(label) for label in labels for t in templates]
    text_emb = net.embed_text(prompts).float().cpu()  # (C*T, D), unit norm
    text_emb = text_emb.view(len(labels), len(templates), -1).mean(dim=1)
    return F.normalize(text_emb, dim=-1)


def evaluate_labelled(
    net, labelled: LabelledSet, loader, device, templates: Sequence[str]
) -> tuple[dict[str, float], ZeroShotDetails]:
    """Scores every clip against every label: accuracy/F1 or ROC-AUC/PR-AUC by set type, and
    the scores and embeddings behind them."""
    indices, audio_emb = embed_audio(net, loader, device)
    if len(indices) == 0:
        raise DatasetError(f"zero-shot set {labelled.name!r}: no audio file could be read")
    class_emb = class_embeddings(net, labelled.labels, labelled.templates or templates)
    scores = audio_emb @ class_emb.T  # (N, C) cosine similarities
    item_targets = [labelled.targets[i] for i in indices.tolist()]
    tag_auc = None
    if labelled.type == "classification":
        targets = torch.tensor([t[0] for t in item_targets])
        metrics = classification_metrics(scores, targets)
    else:
        targets = torch.zeros(len(item_targets), len(labelled.labels), dtype=torch.long)
        for row, target in enumerate(item_targets):
            targets[row, list(target)] = 1
        tag_auc = per_tag_auc(scores, targets)
        metrics = summarise_tags(tag_auc)
    metrics["num_items"] = float(len(indices))
    details = ZeroShotDetails(
        labelled.name,
        labelled.type,
        labelled.labels,
        scores,
        targets,
        audio_emb,
        class_emb,
        tag_auc,
        tuple(indices.tolist()),
    )
    return metrics, details


def evaluate_sets(
    net, sets: ZeroShotSets, datamodule, device, templates: Sequence[str]
) -> tuple[dict[str, float], list[ZeroShotDetails]]:
    """Every set, its clips loaded as the DataModule's evaluation crops: `zeroshot/<set>/<metric>`,
    and every set's details, in set order."""
    metrics, details = {}, []
    for name in sets:
        labelled = sets[name]
        loader = datamodule.labelled_loader(labelled)
        set_metrics, set_details = evaluate_labelled(net, labelled, loader, device, templates)
        metrics.update({f"zeroshot/{name}/{key}": value for key, value in set_metrics.items()})
        details.append(set_details)
    return metrics, details
