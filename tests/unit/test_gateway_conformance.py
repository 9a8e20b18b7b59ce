"""API conformance that holds for every endpoint: the OpenAPI promises only DLF error
bodies, and every kind of bad input is answered with one."""

from __future__ import annotations

import pytest

from tests.unit.conftest import Api
from tests.unit.test_gateway_api import assert_error

LIST = "/v2/demo/factory/pending-items"
EVENTS = "/v2/demo/factory/events"


async def test_openapi_documents_only_dlf_error_bodies(api: Api) -> None:
    spec = (await api.http.get("/openapi.json")).json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            codes = operation["responses"]
            assert "422" not in codes, (method, path)
            if not path.startswith(("/v1/", "/v2/")):
                continue
            assert {"400", "401", "403", "413"} <= set(codes), (method, path)
            for code, response in codes.items():
                if code.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (code, path)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/v2/bad$project/factory/pending-items", {}),
        (LIST, {"workspace": "w" * 65}),
        (LIST + "?limit=abc", {}),
    ],
    ids=["path", "header", "query"],
)
async def test_validation_errors_of_every_kind_are_dlf_0802(
    api: Api, path: str, headers: dict[str, str]
) -> None:
    assert_error(await api.http.get(path, headers=api.headers(**headers)), 400, "DLF.0802")


@pytest.mark.parametrize(
    "body",
    [b"[]", b'"text"', b"null", b'{"type": 5, "payload": {}}', b'{"payload": {}}'],
    ids=["array", "string", "null", "wrong-type", "missing-field"],
)
async def test_bodies_of_the_wrong_shape_are_dlf_0802(api: Api, body: bytes) -> None:
    headers = {**api.headers(), "Content-Type": "application/json"}
    assert_error(await api.http.post(EVENTS, content=body, headers=headers), 400, "DLF.0802")


async def test_the_body_limit_holds_without_content_length(api: Api) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(70):
            yield b"x" * 1024

    headers = {**api.headers(), "Content-Type": "application/json"}
    r = await api.http.post(EVENTS, content=chunks(), headers=headers)
    assert_error(r, 413, "DLF.1002")
