"""The API's routes with the permission operation each one enforces: the source of
the README's endpoint and role tables and of the permission tests."""

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


ROLE_COLUMNS = ("developer", "deployer", "operator", "viewer", "admin")


def _short(path: str) -> str:
    return path.replace("/v2/{project_id}/factory", "").replace("/v1/{project_id}", "/v1")


def endpoint_table(app: FastAPI) -> str:
    rows = ["| operation | method + path |", "|---|---|"]
    rows += [f"| {e.summary} | `{e.method} {e.path}` |" for e in endpoints(app)]
    return "\n".join(rows) + "\n"


def role_table(app: FastAPI, permissions: dict[str, Any]) -> str:
    """The README's who-may-call-what table, from the one permission table."""
    rows = ["| endpoint | " + " | ".join(ROLE_COLUMNS) + " |", "|---|" + "---|" * len(ROLE_COLUMNS)]
    for e in endpoints(app):
        allowed = {str(r) for r in permissions[e.operation]}
        cells = ["✓" if role in allowed else "" for role in ROLE_COLUMNS]
        rows.append(f"| `{e.method} {_short(e.path)}` | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"
