"""The FastAPI application: routes, error bodies, limits. No domain rules here."""

from __future__ import annotations

from fastapi import FastAPI

from releasegate.gateway.context import GatewayContext
from releasegate.gateway.errors import install_error_handlers
from releasegate.gateway.limits import BodyLimit
from releasegate.gateway.routes import (
    events,
    health,
    packages,
    pending_items,
    release,
    reviewers,
    tasks,
)

DESCRIPTION = """DataArts-compatible task-release API (v2 factory) served by releasegate.
Errors are always `{"error_code": "DLF.xxxx", "error_msg": "..."}`."""


def create_app(context: GatewayContext) -> FastAPI:
    app = FastAPI(title="releasegate", version="0.1.0", description=DESCRIPTION)
    app.state.context = context
    install_error_handlers(app)
    for module in (health, pending_items, tasks, events, packages, release, reviewers):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, max_bytes=context.settings.max_body_bytes)
    return app
