"""A cap on request bodies, counted as they arrive, so an oversize upload never reaches disk."""

from __future__ import annotations

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class UploadLimit:
    """ASGI middleware: a body over `max_bytes` is answered 413 before the route reads it all.

    A declared Content-Length over the cap is refused at once; a chunked body is counted and
    stopped at the first chunk past the cap (the form parser re-raises the HTTPException).
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, _message(self.max_bytes))
            return message

        await self.app(scope, counted, send)


def _message(max_bytes: int) -> str:
    return f"upload too large: the limit is {max_bytes / 2**20:g} MB"


def _too_large(max_bytes: int) -> JSONResponse:
    return JSONResponse({"detail": _message(max_bytes)}, status_code=413)
