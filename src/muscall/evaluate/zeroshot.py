"""Zero-shot classification and tagging: labels become texts through prompt templates."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from muscall.data.labelled import LabelledSet
from muscall.data.zeroshot_sets import ZeroShotSets
from muscall.errors import DatasetError
from muscall.evaluate.embed import embed_audio
from muscall.metrics import classification_metrics, tagging_metrics


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
) -> dict[str, float]:
    """Scores every clip against every label; accuracy/F1 or ROC-AUC/PR-AUC by set type."""
    indices, audio_emb = embed_audio(net, loader, device)
    if len(indices) == 0:
        raise DatasetError(f"zero-shot set {labelled.name!r}: no audio file could be read")
    class_emb = class_embeddings(net, labelled.labels, labelled.templates or templates)
    scores = audio_emb @ class_emb.T  # (N, C) cosine similarities
    targets = [labelled.targets[i] for i in indices.tolist()]
    if labelled.type == "classification":
        metrics = classification_metrics(scores, torch.tensor([t[0] for t in targets]))
    else:
        multi_hot = torch.zeros(len(targets), len(labelled.labels), dtype=torch.long)
        for row, target in enumerate(targets):
            multi_hot[row, list(target)] = 1
        metrics = tagging_metrics(scores, multi_hot)
    metrics["num_items"] = float(len(indices))
    return metrics


def evaluate_sets(
    net, sets: ZeroShotSets, datamodule, device, templates: Sequence[str]
) -> dict[str, float]:
    """Every set, its clips loaded as the DataModule's evaluation crops: `zeroshot/<set>/<metric>`."""
    metrics = {}
    for name in sets:
        labelled = sets[name]
        loader = datamodule.labelled_loader(labelled)
        for key, value in evaluate_labelled(net, labelled, loader, device, templates).items():
            metrics[f"zeroshot/{name}/{key}"] = value
    return metrics
