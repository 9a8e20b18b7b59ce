"""The identity CLI writes to the real MongoDB-wire server and the gateway, reading the
same database, admits the token and the SDK-signed requests it issued: unique-index
decisions (seen signatures, idempotency keys) included."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from releasegate.cli.main import main
from releasegate.gateway import bootstrap as gateway
from releasegate.gateway.settings import GatewaySettings
from releasegate.shared.bus.memory import InMemoryBus, MemoryBroker
from releasegate.shared.credentials import CREDENTIALS
from releasegate.shared.store.mongo import MongoDatabase
from tests.events import version_submitted
from tests.infra.servers import Servers
from tests.sdk_signing import sdk_sign

pytestmark = pytest.mark.integration
KEY = "k" * 48


@pytest.fixture
def env(
    servers: Servers, db_name: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    values = {
        "RELEASEGATE_MONGODB_URL": servers.mongodb_url,
        "RELEASEGATE_MONGODB_DB": db_name,
        "RELEASEGATE_TOKEN_SECRET": "t" * 48,
        "RELEASEGATE_CREDENTIALS_KEY": KEY,
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    yield values


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out.strip()


def test_cli_identity_reaches_the_gateway(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _cli(capsys, "projects", "add", "p1", "--default-workspace", "ws1", "--workspace", "ws2")
    _cli(
        capsys,
        "users",
        "add",
        "u-alice",
        "--name",
        "alice",
        "--project",
        "p1",
        "--role",
        "ws1=viewer",
    )
    granted = json.loads(
        _cli(capsys, "users", "grant", "u-alice", "--workspace", "ws1", "--role", "developer")
    )
    assert granted["workspace_roles"] == {"ws1": ["developer", "viewer"]}
    revoked = json.loads(
        _cli(capsys, "users", "revoke", "u-alice", "--workspace", "ws1", "--role", "viewer")
    )
    assert revoked["workspace_roles"] == {"ws1": ["developer"]}
    tenant = json.loads(
        _cli(capsys, "users", "grant", "u-alice", "--tenant", "DARTS Administrator")
    )
    assert tenant["tenant_roles"] == ["DARTS Administrator"]
    _cli(capsys, "users", "revoke", "u-alice", "--tenant", "DARTS Administrator")
    assert json.loads(_cli(capsys, "users", "list", "--project", "p1"))["user_id"] == "u-alice"
    token = _cli(capsys, "token", "mint", "--user", "u-alice", "--ttl", "600")
    pair = json.loads(_cli(capsys, "credentials", "add", "--user", "u-alice"))
    assert _cli(capsys, "credentials", "list", "--user", "u-alice") == pair["ak"]
    asyncio.run(_drive_gateway(env, token, pair))


async def _drive_gateway(env: dict[str, str], token: str, pair: dict[str, str]) -> None:
    settings = GatewaySettings(rpc_timeout_s=5)
    db = MongoDatabase(env["RELEASEGATE_MONGODB_URL"], env["RELEASEGATE_MONGODB_DB"])
    gw = gateway.build(settings, InMemoryBus(MemoryBroker()), db)
    await gw.start()
    try:
        sealed = json.dumps(await db.collection(CREDENTIALS).find({}), default=str)
        assert pair["ak"] in sealed and pair["sk"] not in sealed
        transport = httpx.ASGITransport(app=gw.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            await _token_and_signature(http, token, pair)
    finally:
        await gw.stop()
        await db.close()


async def _token_and_signature(http: httpx.AsyncClient, token: str, pair: dict[str, str]) -> None:
    listed = await http.get("/v2/p1/factory/pending-items", headers={"X-Auth-Token": token})
    assert listed.status_code == 200, listed.text
    signed = sdk_sign(pair["ak"], pair["sk"], "GET", "/v2/p1/factory/pending-items")
    assert (await http.get(signed.uri, headers=signed.headers)).status_code == 200
    replay = await http.get(signed.uri, headers=signed.headers)
    assert replay.json()["error_code"] == "DLF.1012"
    # An event speaks for its caller.
    alice = {"submitter": "u-alice", "submitter_name": "alice"}
    body: Any = version_submitted("real", **alice)
    headers = {"X-Auth-Token": token, "Idempotency-Key": "k1"}
    first = await http.post("/v2/p1/factory/events", json=body, headers=headers)
    again = await http.post("/v2/p1/factory/events", json=body, headers=headers)
    assert first.status_code == again.status_code == 202, first.text
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    other = await http.post(
        "/v2/p1/factory/events", json=version_submitted("x", **alice), headers=headers
    )
    assert other.status_code == 409 and other.json()["error_code"] == "DLF.1020"
