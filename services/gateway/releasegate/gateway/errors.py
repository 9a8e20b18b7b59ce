"""Every error leaves the gateway as ``{"error_code": "DLF.xxxx", "error_msg": "..."}``,
including FastAPI's validation errors and unknown routes."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from releasegate.gateway import request_id
from releasegate.shared.errors import (
    INTERNAL,
    METHOD_NOT_ALLOWED,
    PARAMETER_INVALID,
    ROUTE_NOT_FOUND,
    UNAVAILABLE,
    ErrorCode,
    ReleasegateError,
)
from releasegate.shared.store.base import StoreUnavailable

log = logging.getLogger("releasegate.gateway")


class ErrorBody(BaseModel):
    error_code: str
    error_msg: str


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "Invalid request (DLF.0802 for validation errors)"},
    401: {"model": ErrorBody, "description": "Not authenticated"},
    403: {"model": ErrorBody, "description": "Not allowed"},
    413: {"model": ErrorBody, "description": "Request body too large"},
    503: {"model": ErrorBody, "description": "Temporarily unavailable"},
}
# For POSTs taking an Idempotency-Key (and other conflicts).
CONFLICT_RESPONSES: dict[int | str, dict[str, object]] = {
    **ERROR_RESPONSES,
    409: {"model": ErrorBody, "description": "Conflict (e.g. Idempotency-Key reused)"},
}


def without_validation_422(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents a 422 with its own body on every route; we never send it
    (validation errors are 400 DLF.0802), so the OpenAPI must not promise it."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.get("responses", {}).pop("422", None)
    schemas = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return schema


def error_response(error: ErrorCode, message: str | None = None) -> JSONResponse:
    return JSONResponse(
        status_code=error.http_status,
        content={"error_code": error.code, "error_msg": message or error.meaning},
    )


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "header", "path")]
        parts.append(f"{'.'.join(loc) or 'body'}: {err.get('msg')}")
    return "; ".join(parts) or PARAMETER_INVALID.meaning


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ReleasegateError)
    async def _domain(_: Request, exc: ReleasegateError) -> JSONResponse:
        return error_response(exc.error, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(PARAMETER_INVALID, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(ROUTE_NOT_FOUND)
        if exc.status_code == 405:
            return error_response(METHOD_NOT_ALLOWED)
        if exc.status_code == 400:  # e.g. a body FastAPI could not parse
            return error_response(PARAMETER_INVALID, str(exc.detail))
        return JSONResponse(
            status_code=exc.status_code,
            content={"error_code": INTERNAL.code, "error_msg": str(exc.detail)},
        )

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(_: Request, exc: StoreUnavailable) -> JSONResponse:
        log.warning("database unavailable", extra={"error": str(exc)})
        return error_response(UNAVAILABLE)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        # Starlette answers this one outside every middleware, so the id is set here.
        rid = request_id.request_id_of(request.scope)
        log.error("unhandled error", exc_info=exc, extra={"request_id": rid})
        response = error_response(INTERNAL)
        if rid is not None:
            response.headers[request_id.HEADER] = rid
        return response
