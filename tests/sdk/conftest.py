"""The vendor's official SDK against the gateway on a real HTTP port.

``sdk_gateway`` runs the embedded system (all services, in memory) and uvicorn in a
thread of its own with its own event loop, because the SDK's calls block. Each test
gets a fresh system (a fresh store of seen signatures).

Note for new SDK tests: the SDK's AK/SK signature has second resolution and no nonce,
and the gateway accepts each signature once, so two byte-identical calls in the same
second get ``DLF.1012`` on the second. Vary the call or let a second pass.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkdataartsstudio.v1 import DataArtsStudioClient

from releasegate.cli.demo import seed_demo
from releasegate.cli.embedded import build_embedded
from releasegate.gateway.settings import GatewaySettings
from tests.infra.ports import free_port


@dataclass
class SdkGateway:
    base_url: str
    credentials: dict[str, Any]
    project_id: str = "demo"
    _clients: dict[str, DataArtsStudioClient] = field(default_factory=dict)

    def client(self, user: str = "dev") -> DataArtsStudioClient:
        """The official client for a demo user, signing with its AK/SK."""
        if user not in self._clients:
            u = self.credentials["users"][user]
            self._clients[user] = (
                DataArtsStudioClient.new_builder()
                .with_credentials(BasicCredentials(u["ak"], u["sk"], self.project_id))
                .with_endpoint(self.base_url)
                .build()
            )
        return self._clients[user]

    def request(self, method: str, path: str, body: Any = None, user: str = "dev") -> Any:
        """A plain token-authenticated call (to prepare or poll for data the SDK then
        reads) that spends no signature; the parsed JSON body."""
        token = self.credentials["users"][user]["token"]
        r = httpx.request(method, self.base_url + path, json=body, headers={"X-Auth-Token": token})
        assert r.status_code < 300, r.text
        return r.json()

    def wait_for(self, path: str, probe: Any, what: str, timeout: float = 10.0) -> Any:
        """Poll GET ``path`` (with the token) until ``probe(body)`` is truthy."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.request("GET", path)
            if probe(body):
                return body
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}")


class _ServerThread(threading.Thread):
    def __init__(self, port: int) -> None:
        super().__init__(name="sdk-gateway", daemon=True)
        self.port = port
        self.server: uvicorn.Server | None = None
        self.credentials: dict[str, Any] = {}
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # noqa: BLE001 (reported to the test thread)
            self.failure = exc

    async def _serve(self) -> None:
        settings = GatewaySettings(dev_mode=True, http_port=self.port)
        system = build_embedded(settings, retry_delays_ms=[10, 20])
        await system.start()
        ctx = system.gateway.context
        base_url = f"http://127.0.0.1:{self.port}"
        self.credentials = await seed_demo(
            ctx.identity, settings, base_url, credentials=ctx.credentials
        )
        config = uvicorn.Config(
            system.gateway.app,
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            lifespan="off",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        try:
            await self.server.serve()
        finally:
            await system.stop()


@pytest.fixture
def sdk_gateway() -> Iterator[SdkGateway]:
    thread = _ServerThread(free_port())
    thread.start()
    deadline = time.monotonic() + 30
    while not (thread.server is not None and thread.server.started):
        if thread.failure is not None or not thread.is_alive():
            raise RuntimeError(f"the gateway did not start: {thread.failure!r}")
        if time.monotonic() > deadline:
            raise RuntimeError("the gateway did not start within 30 s")
        time.sleep(0.02)
    yield SdkGateway(f"http://127.0.0.1:{thread.port}", thread.credentials)
    thread.server.should_exit = True
    thread.join(timeout=30)
