import numpy as np
import torch
import torch.nn.functional as F

from muscall.evaluate.classification import per_tag_auc
from muscall.evaluate.zeroshot import ZeroShotDetails
from muscall.plots.zeroshot import confusion_matrix, draw_zeroshot, tag_auc_bars

from .conftest import assert_picture

LABELS = ("blues", "jazz", "rock")


def _details(kind, clips=12):
    gen = torch.Generator().manual_seed(0)
    label_emb = F.normalize(torch.randn(len(LABELS), 8, generator=gen), dim=1)
    classes = torch.arange(clips) % len(LABELS)
    audio_emb = F.normalize(label_emb[classes] + 0.5 * torch.randn(clips, 8, generator=gen), dim=1)
    scores = audio_emb @ label_emb.T
    if kind == "classification":
        return ZeroShotDetails("genres", kind, LABELS, scores, classes, audio_emb, label_emb, None)
    targets = F.one_hot(classes, len(LABELS))
    aucs = per_tag_auc(scores, targets)
    return ZeroShotDetails("tags", kind, LABELS, scores, targets, audio_emb, label_emb, aucs)


def test_confusion_matrix(tmp_path):
    path = confusion_matrix(
        np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2]), LABELS, tmp_path / "c.png"
    )
    assert_picture(path)


def test_tag_auc_bars_of_many_tags(tmp_path):
    aucs = {f"tag {i}": i / 60 for i in range(60)}
    assert_picture(tag_auc_bars(aucs, tmp_path / "t.png", "tags"))


def test_each_set_type_gets_its_pictures(tmp_path):
    written = draw_zeroshot([_details("classification"), _details("tagging")], tmp_path)
    assert [path.name for path in written] == [
        "zeroshot_genres_confusion.png",
        "zeroshot_genres_embedding_map.png",
        "zeroshot_tags_tag_auc.png",
        "zeroshot_tags_embedding_map.png",
    ]
    for path in written:
        assert_picture(path)
