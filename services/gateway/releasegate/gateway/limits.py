"""Request body size limit, enforced before any route reads the body."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from releasegate.shared.errors import BODY_TOO_LARGE


class BodyLimit:
    """Reads the whole body (at most ``max_bytes``) before the app sees the request, so
    an oversized body is a 413 however it is sent (Content-Length or chunked), never
    a parse error half-way through a route."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await _too_large(send, self.max_bytes)
                return
        body = await _read_body(receive, self.max_bytes)
        if body is _GONE:
            return
        if body is None:
            await _too_large(send, self.max_bytes)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # disconnect, once the response is sent

        await self.app(scope, replay, send)


_GONE = b"\x00client disconnected"


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, None when it exceeds ``limit``, ``_GONE`` if the client left."""
    chunks: list[bytes] = []
    seen = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return _GONE
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {"error_code": BODY_TOO_LARGE.code, "error_msg": f"The request body exceeds {limit} bytes."}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
