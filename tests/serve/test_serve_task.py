"""task=serve over a real index built with the tiny checkpoint: the whole path, in-process."""

from __future__ import annotations

import json
import logging
import shutil

import pytest
from fastapi.testclient import TestClient

from muscall.config import compose_config
from muscall.errors import MuscallError
from muscall.tasks import serve
from tests.helpers.library import build_index, write_library

NAMES = ["a/low.wav", "b/mid.flac", "high.wav", "<i onclick=x>odd & name.wav", "x.ogg"]


@pytest.fixture(scope="module")
def real_index(tmp_path_factory, tiny_checkpoint):
    """5 tones indexed, plus a symlink pointing out of the folder (which the index skips)."""
    tmp = tmp_path_factory.mktemp("serve")
    music = write_library(tmp / "music", NAMES)
    (tmp / "secret.wav").write_bytes(b"RIFF SECRET")
    (music / "escape.wav").symlink_to(tmp / "secret.wav")
    return build_index(music, tiny_checkpoint, tmp / "index"), music


def config(index, tmp_path, *extra):
    return compose_config(["task=serve", f"index={index}", "task.device=cpu", *extra], tmp_path)


@pytest.fixture(scope="module")
def client(real_index, tmp_path_factory):
    server = serve.build(config(real_index[0], tmp_path_factory.mktemp("run")))
    assert (server.host, server.port, server.url) == ("127.0.0.1", 8765, "http://127.0.0.1:8765/")
    return TestClient(server.app)


def test_text_search_ranks_every_indexed_track(client):
    rows = client.get("/api/search", params={"q": "a high tone", "k": 100}).json()
    assert sorted(r["path"] for r in rows) == sorted(NAMES)  # the outside symlink is not indexed
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    # The decoded length (docs/audio.md): FFmpeg's vorbis decoder ends x.ogg 255 frames
    # (12 ms) before libvorbis does; the lossless files are exact.
    assert all(r["duration"] == pytest.approx(1.0) for r in rows if r["path"] != "x.ogg")
    assert all(r["duration"] == pytest.approx(1.0, abs=0.02) for r in rows)


def test_every_result_is_playable_and_nothing_else_is(client, real_index):
    _, music = real_index
    rows = client.get("/api/search", params={"q": "tone", "k": 100}).json()
    for row in rows:
        audio = client.get(row["audio_url"], headers={"Range": "bytes=0-3"})
        assert audio.status_code == 206 and audio.content == (music / row["path"]).read_bytes()[:4]
    for url in ("/api/audio/5", "/api/audio/escape.wav", "/api/audio/..%2fsecret.wav"):
        response = client.get(url)
        assert response.status_code in (404, 422) and b"SECRET" not in response.content


def test_find_similar_ranks_the_same_track_first(client, real_index):
    _, music = real_index
    data = (music / "b/mid.flac").read_bytes()
    rows = client.post("/api/search/audio", files={"file": ("copy.flac", data)}).json()
    assert rows[0]["path"] == "b/mid.flac" and rows[0]["score"] == pytest.approx(1.0, abs=1e-4)


def test_garbage_upload_is_400_naming_it(client):
    response = client.post("/api/search/audio", files={"file": ("junk.mp3", b"\xff\xfb" * 500)})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("junk.mp3:") and "muscall-upload" not in detail


def test_a_model_other_than_the_index_is_refused(real_index, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(real_index[0], index)
    meta = json.loads((index / "meta.json").read_text())
    (index / "meta.json").write_text(json.dumps({**meta, "model_fingerprint": "0" * 16}))
    with pytest.raises(MuscallError, match="fingerprint"):
        serve.build(config(index, tmp_path))


def test_no_index_is_a_clear_error(tmp_path):
    with pytest.raises(MuscallError, match="index"):
        serve.build(compose_config(["task=serve"], tmp_path))
    with pytest.raises(MuscallError, match="no library index"):
        serve.build(config(tmp_path, tmp_path))


def test_another_host_is_only_used_when_asked_and_logs_a_warning(real_index, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        server = serve.build(config(real_index[0], tmp_path, "host=0.0.0.0", "port=9999"))
    assert (server.host, server.port) == ("0.0.0.0", 9999)
    assert "open to the network" in caplog.text
