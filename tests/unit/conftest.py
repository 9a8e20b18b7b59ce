"""Unit-level fixtures: the whole system embedded in memory, and an HTTP client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from releasegate.cli.demo import seed_demo
from releasegate.cli.embedded import Embedded, build_embedded
from releasegate.gateway.settings import GatewaySettings


@dataclass
class Api:
    system: Embedded
    http: httpx.AsyncClient
    tokens: dict[str, str]
    project: str = "demo"

    def headers(self, user: str = "dev", **extra: str) -> dict[str, str]:
        return {"X-Auth-Token": self.tokens[user], **extra}


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    settings = GatewaySettings(dev_mode=True, max_body_bytes=64 * 1024)
    system = build_embedded(settings, retry_delays_ms=[10, 20])
    await system.start()
    creds = await seed_demo(system.gateway.context.identity, settings, "http://test")
    transport = httpx.ASGITransport(app=system.gateway.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield Api(system, http, {k: v["token"] for k, v in creds["users"].items()})
    await system.stop()
