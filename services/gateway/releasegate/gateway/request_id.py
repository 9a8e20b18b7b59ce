"""Every response carries ``X-Request-Id``, as the vendor's API does. The official SDK
reads it into the response models that declare it (``x_request_id`` of the package
query and details) and into its exceptions (``request_id``): the id a caller quotes
when reporting a problem, and the one logged with an internal error."""

from __future__ import annotations

import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-Id"
SCOPE_KEY = "releasegate.request_id"
_NAME = HEADER.lower().encode()


def request_id_of(scope: Scope) -> str | None:
    value = scope.get(SCOPE_KEY)
    return value if isinstance(value, str) else None


class RequestId:
    """A fresh id per request (never the client's), set on the response whatever
    produced it: a route, an error handler, the body limit or an idempotent replay."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope[SCOPE_KEY] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != _NAME]
                message = {**message, "headers": [*headers, (_NAME, request_id.encode())]}
            await send(message)

        await self.app(scope, receive, send_with_id)
