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
from tests.events import version_submitted
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

    def submit(self, name: str, task_type: str = "job", version: int = 1, user: str = "dev") -> str:
        """Submit a version of an item (token) and wait for its pending item; its id."""
        event = version_submitted(
            name, version, task_type=task_type, submitter=f"u-{user}", submitter_name=user
        )
        self.request("POST", "/v2/demo/factory/events", event, user=user)
        page = self.wait_for(
            f"/v2/demo/factory/pending-items?item_name={name}&limit=100",
            lambda p: any(d["item_name"] == name for d in p["data"]),
            f"pending item {name}",
        )
        item_id: str = next(d for d in page["data"] if d["item_name"] == name)["pending_item_id"]
        return item_id

    def package(self, name: str, item_ids: list[str], user: str = "dev") -> str:
        """Create a release package (token) for the deployer to review; its id."""
        body = {"package_name": name, "pending_item_list": item_ids, "approver_ids": ["u-deployer"]}
        created = self.request("POST", "/v2/demo/factory/pending-items/package", body, user=user)
        package_id: str = created["release_package_id"]
        return package_id

    def release(self, package_id: str, startup_mode: int = 1) -> Any:
        """Release a package as the deployer (token) and wait until it has finished."""
        body = {"package_ids": [package_id], "startup_mode": startup_mode}
        result = self.request("POST", "/v2/demo/factory/release-packages/deploy", body, "deployer")
        return self.wait_until_released(result["deploy_package_details"][0]["asy_task_id"])

    def wait_until_released(self, asy_task_id: str) -> Any:
        """Poll the system task of a release (token) until it is SUCCESSFUL or FAILED."""
        return self.wait_for(
            f"/v1/demo/system-tasks/{asy_task_id}",
            lambda task: task["status"] in ("SUCCESSFUL", "FAILED"),
            f"system task {asy_task_id} to finish",
        )


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
