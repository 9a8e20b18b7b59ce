"""Unit-level fixtures: the whole system embedded in memory, and an HTTP client on it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from releasegate.cli.demo import seed_demo
from releasegate.cli.embedded import Embedded, build_embedded
from releasegate.gateway.settings import GatewaySettings
from releasegate.shared.identity import User
from releasegate.shared.tokens import mint_token


@dataclass
class Api:
    system: Embedded
    http: httpx.AsyncClient
    tokens: dict[str, str]
    project: str = "demo"
    # The demo users' credentials: user_id, token, ak, sk.
    users: dict[str, dict[str, Any]] = field(default_factory=dict)

    def headers(self, user: str = "dev", **extra: str) -> dict[str, str]:
        return {"X-Auth-Token": self.tokens[user], **extra}

    async def add_user(self, user: User) -> dict[str, str]:
        """Store ``user`` where the gateway reads it; the headers that authenticate as it."""
        ctx = self.system.gateway.context
        await ctx.identity.put_user(user)
        s = ctx.settings
        token = mint_token(
            user.user_id, secret=s.token_secret, issuer=s.token_issuer, audience=s.token_audience
        )
        return {"X-Auth-Token": token}


def unit_settings(**overrides: Any) -> GatewaySettings:
    return GatewaySettings(**{"dev_mode": True, "max_body_bytes": 64 * 1024, **overrides})


@contextlib.asynccontextmanager
async def open_api(settings: GatewaySettings) -> AsyncIterator[Api]:
    system = build_embedded(settings, retry_delays_ms=[10, 20])
    await system.start()
    ctx = system.gateway.context
    creds = await seed_demo(ctx.identity, settings, "http://test", credentials=ctx.credentials)
    transport = httpx.ASGITransport(app=system.gateway.app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            tokens = {k: v["token"] for k, v in creds["users"].items()}
            yield Api(system, http, tokens, users=creds["users"])
    finally:
        await system.stop()


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with open_api(unit_settings()) as opened:
        yield opened
