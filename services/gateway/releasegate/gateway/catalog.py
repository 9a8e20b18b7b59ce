"""The API's routes with the permission operation each one enforces: the source of
the README's endpoint table, of the roles table in docs/api.md and of the permission
tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    operation: str
    summary: str


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # an included router
            yield from _api_routes(route.original_router.routes)


def _operation(dependant: Any) -> str | None:
    for sub in dependant.dependencies:
        found = getattr(sub.call, "operation", None) or _operation(sub)
        if found:
            return str(found)
    return None


def endpoints(app: FastAPI) -> list[Endpoint]:
    out = []
    for route in _api_routes(list(app.routes)):
        operation = _operation(route.dependant)
        if operation is None:
            continue  # health and metrics: no caller identity
        for method in sorted(route.methods or ()):
            out.append(Endpoint(method, route.path, operation, route.summary or ""))
    return sorted(out, key=lambda e: (e.path, e.method))


def endpoint_table(app: FastAPI) -> str:
    rows = ["| operation | method + path |", "|---|---|"]
    rows += [f"| {e.summary} | `{e.method} {e.path}` |" for e in endpoints(app)]
    return "\n".join(rows) + "\n"
