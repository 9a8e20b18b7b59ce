"""AK/SK: requests signed by the official SDK core's signer are accepted once, inside
the date window, with the right secret key; the secret keys are stored sealed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from releasegate.shared.credentials import CREDENTIALS, CredentialStore, SecretBox
from tests.events import version_submitted
from tests.sdk_signing import Signed, sdk_sign
from tests.unit.conftest import Api
from tests.unit.test_gateway_api import assert_error

LIST = "/v2/demo/factory/pending-items"
EVENTS = "/v2/demo/factory/events"


def _pair(api: Api, user: str = "dev") -> tuple[str, str]:
    return api.users[user]["ak"], api.users[user]["sk"]


async def _send(api: Api, method: str, signed: Signed) -> httpx.Response:
    return await api.http.request(method, signed.uri, headers=signed.headers, content=signed.body)


async def test_sdk_signed_get_with_query_is_accepted(api: Api) -> None:
    ak, sk = _pair(api)
    query = [("limit", 5), ("item_name", "a b/c~d"), ("offset", 0)]
    signed = sdk_sign(ak, sk, "GET", LIST, query=query, project_id="demo")
    r = await _send(api, "GET", signed)
    assert r.status_code == 200, r.text
    assert r.json() == {"data": [], "total": 0}


async def test_sdk_signed_post_with_body_is_accepted(api: Api) -> None:
    ak, sk = _pair(api)
    body = json.dumps(version_submitted("signed_job")).encode()
    r = await _send(api, "POST", sdk_sign(ak, sk, "POST", EVENTS, body=body))
    assert r.status_code == 202, r.text


async def test_a_signature_is_accepted_once(api: Api) -> None:
    ak, sk = _pair(api)
    signed = sdk_sign(ak, sk, "GET", LIST)
    assert (await _send(api, "GET", signed)).status_code == 200
    assert_error(await _send(api, "GET", signed), 401, "DLF.1012")


@pytest.mark.parametrize("minutes", [-16, 16])
async def test_a_date_outside_fifteen_minutes_is_refused(api: Api, minutes: int) -> None:
    ak, sk = _pair(api)
    at = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=minutes)
    assert_error(await _send(api, "GET", sdk_sign(ak, sk, "GET", LIST, at=at)), 401, "DLF.1011")


@pytest.mark.parametrize("minutes", [-14, 14])
async def test_a_date_inside_the_window_is_accepted(api: Api, minutes: int) -> None:
    ak, sk = _pair(api)
    at = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=minutes)
    assert (await _send(api, "GET", sdk_sign(ak, sk, "GET", LIST, at=at))).status_code == 200


def _tamper(signed: Signed, **changes: Any) -> Signed:
    return Signed(
        changes.get("uri", signed.uri),
        {**signed.headers, **changes.get("headers", {})},
        changes.get("body", signed.body),
    )


@pytest.mark.parametrize(
    "change",
    [
        {"body": b'{"type":"job.created","payload":{}}'},
        {"uri": EVENTS + "?limit=6"},
        {"uri": "/v2/other/factory/events?limit=5"},
        {"headers": {"X-Project-Id": "other"}},
        {"headers": {"Host": "elsewhere"}},
        {"headers": {"workspace": "default"}},
        {"headers": {"Idempotency-Key": "k"}},
    ],
    ids=["body", "query", "path", "signed-header", "host", "workspace", "idempotency-key"],
)
async def test_any_change_after_signing_is_refused(api: Api, change: dict[str, Any]) -> None:
    ak, sk = _pair(api)
    body = json.dumps(version_submitted("x")).encode()
    signed = sdk_sign(ak, sk, "POST", EVENTS, query=[("limit", 5)], body=body, project_id="demo")
    assert signed.uri == EVENTS + "?limit=5"
    assert_error(await _send(api, "POST", _tamper(signed, **change)), 401, "DLF.1010")


async def test_headers_that_choose_the_target_are_signed_as_the_sdk_sends_them(api: Api) -> None:
    # The SDK signs every header it sends, the workspace header among them.
    ak, sk = _pair(api)
    signed = sdk_sign(ak, sk, "GET", LIST, headers={"workspace": "default"})
    assert "workspace" in signed.headers["Authorization"]
    assert (await _send(api, "GET", signed)).status_code == 200


async def test_a_query_parameter_sent_twice_is_refused(api: Api) -> None:
    # The signature sorts the pairs, the API reads the last value: the order is unsigned.
    ak, sk = _pair(api)
    signed = sdk_sign(ak, sk, "GET", LIST, query=[("limit", 1), ("limit", 100)])
    assert_error(await _send(api, "GET", signed), 401, "DLF.1010")


async def test_wrong_secret_unknown_key_and_malformed_headers_are_refused(api: Api) -> None:
    ak, sk = _pair(api)
    wrong = sk[:-1] + ("y" if sk.endswith("x") else "x")  # a random SK may end in "x"
    assert_error(await _send(api, "GET", sdk_sign(ak, wrong, "GET", LIST)), 401, "DLF.1010")
    assert_error(await _send(api, "GET", sdk_sign("A" * 20, sk, "GET", LIST)), 401, "DLF.1010")
    signed = sdk_sign(ak, sk, "GET", LIST)
    no_date = {k: v for k, v in signed.headers.items() if k != "X-Sdk-Date"}
    assert_error(await api.http.get(LIST, headers=no_date), 401, "DLF.1010")
    for bad in (
        "SDK-HMAC-SHA256 Access=AK",
        f"SDK-HMAC-SHA256 Access={ak}, SignedHeaders=x-sdk-date, Signature={'0' * 64}",
        f"SDK-HMAC-SHA256 Access={ak}, SignedHeaders=x-sdk-date;host, Signature={'0' * 64}",
    ):
        r = await api.http.get(LIST, headers={**signed.headers, "Authorization": bad})
        assert_error(r, 401, "DLF.1010")


async def test_unsigned_payload_is_not_accepted(api: Api) -> None:
    ak, sk = _pair(api)
    body = json.dumps(version_submitted("x")).encode()
    signed = sdk_sign(
        ak, sk, "POST", EVENTS, body=body, headers={"X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"}
    )
    assert_error(await _send(api, "POST", signed), 401, "DLF.1010")


async def test_a_disabled_access_key_is_refused(api: Api) -> None:
    ak, sk = _pair(api)
    assert await api.system.gateway.context.credentials.disable(ak)
    assert_error(await _send(api, "GET", sdk_sign(ak, sk, "GET", LIST)), 401, "DLF.1010")


async def test_signed_callers_are_authorised_like_token_callers(api: Api) -> None:
    ak, sk = _pair(api, "deployer")
    body = json.dumps(version_submitted("x")).encode()
    r = await _send(api, "POST", sdk_sign(ak, sk, "POST", EVENTS, body=body))
    assert_error(r, 403, "DLF.6888")
    r = await _send(api, "GET", sdk_sign(ak, sk, "GET", "/v2/other/factory/pending-items"))
    assert_error(r, 403, "DLF.6888")


async def test_a_database_dump_does_not_reveal_secret_keys(api: Api) -> None:
    ak, sk = _pair(api)
    docs = await api.system.db.collection(CREDENTIALS).find({})
    dump = json.dumps(docs)
    assert ak in dump and sk not in dump
    # Without the credentials key the sealed secret does not open, nor on another AK.
    stolen = CredentialStore(api.system.db, SecretBox("k" * 40))
    assert await stolen.resolve(ak) is None
    doc = next(d for d in docs if d["_id"] == ak)
    moved = {**doc, "_id": "B" * 20}
    await api.system.db.collection(CREDENTIALS).insert_one(moved)
    assert await api.system.gateway.context.credentials.resolve("B" * 20) is None
    assert (await api.system.gateway.context.credentials.resolve(ak)) is not None


def test_rotated_keys_still_open_old_secrets() -> None:
    old, new = SecretBox("o" * 40), SecretBox("n" * 40, old_keys=["o" * 40])
    sealed = old.seal("secret", "AK1")
    assert new.open(sealed, "AK1") == "secret"
    assert new.seal("s2", "AK1")["kid"] != sealed["kid"]
