"""The roles table of docs/api.md, checked cell by cell against the running gateway.

The table is parsed from docs/api.md; it must list exactly the operations of
PERMISSIONS with their routes, and every ``/v2``/``/v1`` route must enforce one
operation and have a sample request (tests/unit/samples.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from releasegate.cli.embedded import build_embedded
from releasegate.gateway.auth import operation_of
from releasegate.gateway.permissions import PERMISSIONS
from releasegate.shared.identity import Role, TenantRole, User
from tests.unit.conftest import Api
from tests.unit.samples import SAMPLES

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
COLUMNS: list[Role | TenantRole] = [*Role, *TenantRole]
HEADER = "| operation | endpoint | " + " | ".join(c.value for c in COLUMNS) + " |"


def _flatten(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    # FastAPI >= 0.16x keeps included routers as wrappers around the original router.
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flatten(inner.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute):
            yield prefix + route.path, route


def api_routes() -> dict[str, str]:
    """operation -> 'METHOD path' for every versioned API route of the app."""
    app = build_embedded().gateway.app
    out: dict[str, str] = {}
    seen_paths = set()
    for path, route in _flatten(app.routes):
        seen_paths.add(path)
        if not re.match(r"^/v\d+/", path):
            continue
        ops = [op for d in route.dependant.dependencies if (op := operation_of(d.call))]
        assert len(ops) == 1, f"{path} must depend on exactly one allowed(...)"
        for method in sorted(route.methods):
            out[ops[0]] = f"{method} {path}"
    # Nothing hidden from the walk above: it saw every path OpenAPI documents.
    assert set(app.openapi()["paths"]) <= seen_paths
    return out


def expected_table() -> str:
    rows = [HEADER, "|" + "---|" * (len(COLUMNS) + 2)]
    for op, endpoint in api_routes().items():
        cells = ["✓" if c in PERMISSIONS[op] or isinstance(c, TenantRole) else "" for c in COLUMNS]
        rows.append(f"| `{op}` | `{endpoint}` | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def documented_cells() -> dict[str, tuple[str, dict[str, bool]]]:
    lines = REFERENCE.read_text().splitlines()
    if HEADER not in lines:
        return {}
    start = lines.index(HEADER)
    table: dict[str, tuple[str, dict[str, bool]]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("| `"):
            break
        parts = [p.strip() for p in line.strip("|").split("|")]
        op, endpoint, marks = parts[0].strip("`"), parts[1].strip("`"), parts[2:]
        table[op] = (endpoint, {c.value: m == "✓" for c, m in zip(COLUMNS, marks, strict=True)})
    return table


def test_every_api_route_has_a_permission_a_sample_and_a_documented_row() -> None:
    routes = api_routes()
    assert set(routes) == set(PERMISSIONS), "PERMISSIONS and the routes differ"
    assert set(routes) <= set(SAMPLES), f"no sample request for {set(routes) - set(SAMPLES)}"
    documented = {op: endpoint for op, (endpoint, _) in documented_cells().items()}
    assert documented == routes, (
        "docs/api.md roles table is stale; it should read:\n" + expected_table()
    )


def test_the_documented_table_says_what_permissions_enforce() -> None:
    for op, (_, cells) in documented_cells().items():
        allowed = {c.value for c in COLUMNS if c in PERMISSIONS.get(op, ()) or c in TenantRole}
        assert {c for c, ok in cells.items() if ok} == allowed, op


CELLS = [
    (op, column, ok)
    for op, (_, cells) in documented_cells().items()
    for column, ok in cells.items()
]


@pytest.mark.parametrize(("operation", "column", "allowed"), CELLS)
async def test_roles_table_cell(api: Api, operation: str, column: str, allowed: bool) -> None:
    user = User(user_id="u-cell", name="cell", project_id="demo")
    if column in {r.value for r in Role}:
        user = user.model_copy(update={"workspace_roles": {"default": [Role(column)]}})
    else:
        user = user.model_copy(update={"tenant_roles": [TenantRole(column)]})
    cell = await api.add_user(user)
    sample = SAMPLES[operation]
    r = await api.http.request(
        sample.method, sample.path, json=sample.json, params=sample.params, headers=cell
    )
    if allowed:
        assert r.status_code < 500 and r.status_code not in (401, 403), r.text
    else:
        assert r.status_code == 403 and r.json()["error_code"] == "DLF.6888", r.text
