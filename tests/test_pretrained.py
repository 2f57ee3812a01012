"""pretrained:tagbridge: text search with no training, wherever a checkpoint is accepted."""

import numpy as np
import pytest
import soundfile as sf
import torch
import torch.nn.functional as F

import muscall
from muscall.config import compose_config
from muscall.errors import MuscallError
from muscall.library.index import LibraryIndex
from muscall.models.musicnn_tagging import MusicnnTagging
from muscall.models.musicnn_tags import MSD_TAGS
from muscall.tasks import index as index_task
from muscall.tasks import search as search_task
from tests.models.fixtures.musicnn_inputs import reference_clips


@pytest.fixture(scope="module")
def bridge():
    return muscall.load("pretrained:tagbridge", device="cpu")


@pytest.fixture(scope="module")
def music(tmp_path_factory):
    root = tmp_path_factory.mktemp("library")
    for name, clip in reference_clips().items():
        sf.write(root / f"{name}.wav", clip, 16000)
    return root


def test_a_track_is_its_normalised_tag_profile(bridge):
    clip = reference_clips()["chord"][: 187 * 256]  # exactly one patch: one window
    expected = F.normalize(torch.from_numpy(MusicnnTagging("msd").probabilities(clip)), dim=0)
    torch.testing.assert_close(bridge.embed_audio([clip])[0], expected, atol=1e-5, rtol=0)
    assert bridge.tags == list(MSD_TAGS) and bridge.embed_dim == len(MSD_TAGS)


def test_a_query_weighs_the_tags_it_names(bridge):
    weights = bridge.embed_text(["jazz", "80s music", "sad songs"])
    tops = [bridge.tags[int(i)] for i in weights.argmax(dim=1)]
    assert tops == ["jazz", "80s", "sad"]
    assert ((weights > 0).sum(dim=1) <= 5).all()  # top_k tags kept


def test_an_unknown_pretrained_name_is_a_user_error():
    with pytest.raises(MuscallError, match="pretrained:tagbridge"):
        muscall.load("pretrained:clap")


def test_index_and_search_a_folder_with_no_checkpoint(music, tmp_path, capsys):
    index_dir = tmp_path / "index"
    overrides = ["task=index", "ckpt_path=pretrained:tagbridge", f"source={music}"]
    cfg = compose_config([*overrides, f"index={index_dir}", "task.progress=false"], tmp_path)
    assert index_task.run(cfg)["embedded"] == 3.0
    index = LibraryIndex.load(index_dir)
    assert index.model_source == "pretrained:tagbridge" and index.tags == list(MSD_TAGS)
    assert all(len(index.top_tags(i)) == 3 for i in range(len(index)))
    capsys.readouterr()
    cfg = compose_config(["task=search", f"index={index_dir}", "query=electronic"], tmp_path)
    assert search_task.run(cfg)["num_results"] == 3.0
    lines = capsys.readouterr().out.strip().splitlines()
    score, path, tags = lines[0].split("\t")
    assert path.startswith(str(music)) and len(tags.split(", ")) == 3
    # The scores are the tag profiles weighed by the query's tags, best first.
    scores = [float(line.split("\t")[0]) for line in lines]
    assert scores == sorted(scores, reverse=True)


def test_the_search_page_shows_each_results_tags(bridge, music, tmp_path):
    from fastapi.testclient import TestClient

    from muscall.library.build import update_index
    from muscall.serve.app import create_app

    index, _ = update_index(bridge, music, tmp_path / "index", workers=1, progress=False)
    app = create_app(bridge, index, max_upload_mb=1.0, backend="exact")
    rows = TestClient(app).get("/api/search", params={"q": "ambient", "k": 3}).json()
    assert [len(row["tags"]) for row in rows] == [3, 3, 3]
    assert all(set(row["tags"]) <= set(MSD_TAGS) for row in rows)
    assert np.isfinite([row["score"] for row in rows]).all()
