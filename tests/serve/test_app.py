"""The search API: ranked JSON, audio with Range, uploads, limits and confinement to the index."""

from __future__ import annotations

import io

import pytest

from .conftest import MAX_UPLOAD_MB


def test_page_and_its_assets_are_served_with_a_strict_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="query"' in page.text and 'type="file"' in page.text
    # No CDN, no external font: the page works with no internet.
    assert "http" not in page.text.replace("http-equiv", "")
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self'
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/../app.py").status_code == 404
    # Query parameters name nothing on these routes.
    for route in ("/", "/static/app.js", "/static/style.css"):
        for key in ("path", "name", "file", "media_type"):
            response = client.get(route, params={key: "/etc/passwd"})
            assert b"root:" not in response.content
    # The page sets every name with textContent, never as HTML.
    assert "innerHTML" not in client.get("/static/app.js").text


def test_info_names_the_index_and_model_but_not_the_absolute_root(client, index):
    info = client.get("/api/info").json()
    assert info["tracks"] == 5 and info["root"] == "music" and info["model"] == "last.ckpt"
    assert str(index.root) not in str(info)


def test_text_search_returns_ranked_rows(client, index):
    rows = client.get("/api/search", params={"q": "a high tone", "k": 3}).json()
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert rows[0]["path"] == "sub/high.wav"
    assert rows[0]["audio_url"] == "/api/audio/2"
    assert rows[0]["duration"] == pytest.approx(0.5)
    assert rows[0]["score"] > rows[1]["score"] > rows[2]["score"]


@pytest.mark.parametrize("q", ["", "   "])
def test_empty_query_is_400_with_a_message(client, q):
    response = client.get("/api/search", params={"q": q})
    assert response.status_code == 400 and "empty query" in response.json()["detail"]


@pytest.mark.parametrize("k", [0, -1, 101, "ten"])
def test_k_out_of_range_is_refused(client, k):
    assert client.get("/api/search", params={"q": "tone", "k": k}).status_code == 422


def test_overlong_query_is_refused(client):
    assert client.get("/api/search", params={"q": "x" * 501}).status_code == 422


def test_audio_is_served_with_its_type_and_supports_range(client, index):
    whole = client.get("/api/audio/1")
    assert whole.status_code == 200 and whole.headers["content-type"] == "audio/flac"
    assert whole.content == (index.root / "mid.flac").read_bytes()
    assert whole.headers["accept-ranges"] == "bytes"
    part = client.get("/api/audio/1", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == whole.content[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(whole.content)}"


@pytest.mark.parametrize(
    "url",
    [
        "/api/audio/5",
        "/api/audio/-1",
        "/api/audio/99999999999999999999",
        "/api/audio/low.wav",
        "/api/audio/../../secret.txt",
        "/api/audio/..%2f..%2fsecret.txt",
        "/api/audio/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/api/audio/%2Fetc%2Fpasswd",
        "/api/audio//etc/passwd",
        "/api/audio/0/../../secret.txt",
        "/api/audio/1%00",
    ],
)
def test_no_request_reaches_a_file_outside_the_index(client, url):
    response = client.get(url)
    assert response.status_code in (400, 404, 422)
    assert b"SECRET" not in response.content and b"root:" not in response.content


def test_a_symlink_out_of_the_indexed_folder_is_not_served(client, index):
    # Even if the index lists it and its resolve lets it through, the real path is outside.
    index.entries.append(type(index.entries[0])("escape.wav", 0.5, 10, 0.0))
    index.resolve = lambda relative: index.root / relative
    response = client.get("/api/audio/5")
    assert response.status_code == 404 and b"SECRET" not in response.content


def test_a_file_replaced_by_a_symlink_after_indexing_is_not_served(client, index, tmp_path):
    (index.root / "low.wav").unlink()
    (index.root / "low.wav").symlink_to(tmp_path / "secret.txt")
    response = client.get("/api/audio/0")
    assert response.status_code == 404 and b"SECRET" not in response.content


def test_upload_search_ranks_the_same_file_first(client, index):
    data = (index.root / "sub/high.wav").read_bytes()
    response = client.post(
        "/api/search/audio", files={"file": ("mine.wav", data, "audio/wav")}, data={"k": "4"}
    )
    rows = response.json()
    assert response.status_code == 200 and len(rows) == 4
    assert rows[0]["path"] == "sub/high.wav" and rows[0]["rank"] == 1


def test_upload_is_decoded_from_a_temporary_file_then_deleted(client, index, monkeypatch):
    from muscall.serve import app as serve_app

    seen = []
    search = serve_app.search_audio
    monkeypatch.setattr(
        serve_app,
        "search_audio",
        lambda m, i, path, k, **kw: seen.append(path) or search(m, i, path, k),
    )
    data = (index.root / "low.wav").read_bytes()
    name = "../../../etc/evil.wav"  # a name is never a path
    assert client.post("/api/search/audio", files={"file": (name, data)}).status_code == 200
    assert seen[0].name == "upload.wav" and not seen[0].is_relative_to(index.root)
    assert not seen[0].exists() and not seen[0].parent.exists()


@pytest.mark.parametrize("data", [b"this is not audio at all" * 10, b""])
def test_a_bad_upload_is_400_with_a_message_naming_it(client, data):
    response = client.post("/api/search/audio", files={"file": ("notes.wav", data)})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("notes.wav:") and "/tmp" not in detail and "Traceback" not in detail


def test_an_upload_without_a_file_is_refused(client):
    assert client.post("/api/search/audio", data={"k": "3"}).status_code == 422


def test_upload_k_out_of_range_is_refused(client, index):
    data = (index.root / "low.wav").read_bytes()
    response = client.post("/api/search/audio", files={"file": ("a.wav", data)}, data={"k": "0"})
    assert response.status_code == 422


def test_an_oversize_upload_is_413(client):
    big = b"\0" * int(MAX_UPLOAD_MB * 2**20 + 1)
    response = client.post("/api/search/audio", files={"file": ("big.wav", big)})
    assert response.status_code == 413 and "limit" in response.json()["detail"]


def test_an_oversize_upload_without_a_length_is_stopped_while_it_arrives(client):
    # A chunked body declares no size, so it is counted as it comes.
    boundary = "xyz"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
    chunks = [head.encode(), *[b"\0" * 2**16] * 16, f"\r\n--{boundary}--\r\n".encode()]
    response = client.post(
        "/api/search/audio",
        content=iter(chunks),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413


def test_a_failing_request_never_answers_with_a_traceback(client):
    response = client.post("/api/search/audio", content=io.BytesIO(b"--broken").read(),
                           headers={"Content-Type": "multipart/form-data; boundary=zz"})  # fmt: skip
    assert response.status_code in (400, 422) and "Traceback" not in response.text
