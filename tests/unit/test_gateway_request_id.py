"""Every response carries a fresh ``X-Request-Id`` (the official SDK reads it into its
models and exceptions), whichever layer answered."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from releasegate.gateway.errors import install_error_handlers
from releasegate.gateway.request_id import RequestId
from tests.unit.conftest import Api

LIST = "/v2/demo/factory/pending-items"
HEX32 = re.compile(r"^[0-9a-f]{32}$")


async def test_every_kind_of_response_carries_a_fresh_request_id(api: Api) -> None:
    json_headers = {**api.headers(), "Content-Type": "application/json"}
    responses = {
        200: await api.http.get(LIST, headers=api.headers()),
        400: await api.http.get(LIST + "?limit=abc", headers=api.headers()),
        401: await api.http.get(LIST),
        404: await api.http.get("/v2/demo/factory/nowhere", headers=api.headers()),
        413: await api.http.post(
            "/v2/demo/factory/events", content=b"x" * (65 * 1024), headers=json_headers
        ),
    }
    ids = []
    for status, r in responses.items():
        assert r.status_code == status, r.text
        assert HEX32.match(r.headers["X-Request-Id"]), (status, r.headers)
        ids.append(r.headers["X-Request-Id"])
    assert len(set(ids)) == len(ids)


async def test_a_client_request_id_is_not_echoed(api: Api) -> None:
    r = await api.http.get(LIST, headers=api.headers(**{"X-Request-Id": "mine"}))
    assert r.status_code == 200
    assert r.headers.get_list("X-Request-Id") != ["mine"]
    assert HEX32.match(r.headers["X-Request-Id"])


async def test_an_internal_error_carries_the_request_id_too() -> None:
    # Starlette answers unhandled errors outside every middleware: the handler sets it.
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(RequestId)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        r = await http.get("/boom")
    assert r.status_code == 500 and r.json()["error_code"] == "DLF.1007"
    assert HEX32.match(r.headers["X-Request-Id"])
