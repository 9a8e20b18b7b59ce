"""The FastAPI application: routes, error bodies, limits. No domain rules here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from releasegate.gateway.context import GatewayContext
from releasegate.gateway.errors import install_error_handlers, without_validation_422
from releasegate.gateway.idempotency import install_idempotency
from releasegate.gateway.limits import BodyLimit
from releasegate.gateway.request_id import RequestId
from releasegate.gateway.routes import (
    events,
    health,
    identity,
    packages,
    pending_items,
    production,
    release,
    reviewers,
    tasks,
)

DESCRIPTION = """DataArts-compatible task-release API (v2 factory) served by releasegate.
Errors are always `{"error_code": "DLF.xxxx", "error_msg": "..."}`.

Authenticate with `X-Auth-Token` (a signed JWT) or the official SDKs' AK/SK signature
(`Authorization: SDK-HMAC-SHA256 ...` with `X-Sdk-Date`). The `workspace` header picks
the workspace (default: the project's default workspace). POST endpoints that take an
`Idempotency-Key` header answer a retry with the first response.

Paths under `/v2/{project_id}/releasegate/` are releasegate extensions (identity
administration), not part of the vendor's API."""


def create_app(context: GatewayContext) -> FastAPI:
    # No redirect to the path with or without a trailing slash: a 307 without the
    # DLF error body is an answer the vendor's clients do not expect.
    app = FastAPI(
        title="releasegate", version="0.1.0", description=DESCRIPTION, redirect_slashes=False
    )
    app.state.context = context
    install_error_handlers(app)
    for module in (
        health,
        pending_items,
        tasks,
        events,
        packages,
        release,
        reviewers,
        production,
        identity,
    ):
        app.include_router(module.router)
    install_idempotency(app)
    app.add_middleware(BodyLimit, max_bytes=context.settings.max_body_bytes)
    app.add_middleware(RequestId)  # outermost: even a 413 of the body limit carries it
    _document_errors_only_as_dlf(app)
    return app


def _document_errors_only_as_dlf(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = without_validation_422(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
