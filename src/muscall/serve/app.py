"""The search page's HTTP API: text and audio queries over a library index, and its audio.

Nothing a request carries is used as a path: audio is served by entry number, through
`index.resolve`, and only when the file lies inside the indexed folder.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI, Form, HTTPException, Query, UploadFile
from fastapi.responses import FileResponse, Response

from muscall.errors import MuscallError
from muscall.library.search import search_audio, search_text
from muscall.serve.upload_limit import UploadLimit

STATIC = Path(__file__).parent / "static"
# The page asks for at most this many tracks; more is a request for the whole library.
MAX_K = 100
MAX_QUERY_CHARS = 500
# An upload's name lends its temporary file a suffix for the decoder, nothing more.
SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
}


PAGE_FILES = {
    "/": ("index.html", "text/html"),
    "/static/app.js": ("app.js", "text/javascript"),
    "/static/style.css": ("style.css", "text/css"),
}


def create_app(model, index, *, max_upload_mb: float, backend: str) -> FastAPI:
    """The app serving `index` searched with `model` by `backend` ("exact" or "faiss").

    Uploads over `max_upload_mb` are refused with 413.
    """
    app = FastAPI(title="muscall search", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(UploadLimit, max_bytes=int(max_upload_mb * 2**20))
    app.middleware("http")(_security_headers)
    _add_page(app)
    # One query at a time: the model is shared and a burst of requests should queue, not
    # multiply memory.
    model_lock = threading.Lock()

    def rows(hits) -> list[dict]:
        return [_row(index, rank, hit) for rank, hit in enumerate(hits, start=1)]

    @app.get("/api/info")
    def info() -> dict:
        return {
            "tracks": len(index),
            "model": Path(str(index.model_source)).name,
            "root": index.root.name,
            "max_k": MAX_K,
            "max_upload_mb": max_upload_mb,
        }

    @app.get("/api/search")
    def search(
        q: str = Query("", max_length=MAX_QUERY_CHARS), k: int = Query(10, ge=1, le=MAX_K)
    ) -> list[dict]:
        if not q.strip():
            raise HTTPException(400, "empty query: type a description of the music")
        with model_lock:
            return rows(search_text(model, index, q.strip(), k, backend=backend))

    @app.post("/api/search/audio")
    def search_by_audio(file: UploadFile, k: int = Form(10, ge=1, le=MAX_K)) -> list[dict]:
        with _upload_file(file) as (path, name):
            try:
                with model_lock:
                    return rows(search_audio(model, index, path, k, backend=backend))
            except MuscallError as error:
                # The message names the temporary file: name the upload instead, once.
                detail = str(error).replace(str(path), name).removeprefix("query_audio=")
                detail = detail.removeprefix(f"{name}: ")
                raise HTTPException(400, f"{name}: not usable as audio ({detail})") from None

    @app.get("/api/audio/{position}")
    def audio(position: int) -> FileResponse:
        return FileResponse(_entry_file(index, position))

    return app


def _add_page(app: FastAPI) -> None:
    """The page and its two assets, from a fixed table: no request names a file here."""
    for route, (name, media_type) in PAGE_FILES.items():
        app.get(route, include_in_schema=False)(_static_file(STATIC / name, media_type))
    # Browsers ask for it; an empty answer keeps their console free of 404s.
    app.get("/favicon.ico", include_in_schema=False)(lambda: Response(status_code=204))


def _static_file(path: Path, media_type: str):
    # An endpoint without parameters: FastAPI would fill any parameter from the query string.
    def endpoint() -> FileResponse:
        return FileResponse(path, media_type=media_type)

    return endpoint


async def _security_headers(request, call_next):
    response = await call_next(request)
    response.headers.update(HEADERS)
    return response


@contextmanager
def _upload_file(file: UploadFile) -> Iterator[tuple[Path, str]]:
    """The upload as a file in a temporary folder deleted after: (path, the name it was sent as)."""
    name = (file.filename or "upload")[:200]
    with tempfile.TemporaryDirectory(prefix="muscall-upload-") as tmp:
        match = SAFE_SUFFIX.fullmatch(Path(name).suffix)
        path = Path(tmp) / ("upload" + (match.group(0) if match else ""))
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        if path.stat().st_size == 0:
            raise HTTPException(400, f"{name}: the file is empty")
        yield path, name


def _row(index, rank: int, hit) -> dict:
    entry = index.entries[hit.position]
    return {
        "rank": rank,
        "path": hit.path,
        "score": round(float(hit.score), 4),
        "duration": entry.duration,
        # The track's strongest tags, when the index's model tags (pretrained:tagbridge).
        "tags": index.top_tags(hit.position),
        "audio_url": f"/api/audio/{hit.position}",
    }


def _entry_file(index, position: int) -> Path:
    """The file of entry `position`, only if it is a regular file inside the indexed folder."""
    missing = HTTPException(404, f"no track {position} in this index")
    if not 0 <= position < len(index):
        raise missing
    try:
        path = index.resolve(index.entries[position].path)
    except MuscallError:
        raise missing from None
    # index.resolve already confines the path; this also catches a symlink made after indexing.
    real, root = Path(path).resolve(), Path(index.root).resolve()
    if not real.is_relative_to(root) or not real.is_file():
        raise missing
    return real
