"""The embedded system with the demo tenant, and a Flow on it, for unit tests that
need their own composition (a fake clock, a fake target, other settings)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from releasegate.cli.demo import seed_demo
from releasegate.cli.embedded import Embedded, build_embedded
from tests.flows import Flow


@asynccontextmanager
async def embedded_api(
    **build: Any,
) -> AsyncIterator[tuple[Embedded, httpx.AsyncClient, dict[str, Any]]]:
    """The started system, a client of its gateway, and the demo credentials as
    ``make run`` writes them."""
    build.setdefault("retry_delays_ms", [10, 20])
    system = build_embedded(**build)
    await system.start()
    try:
        ctx = system.gateway.context
        creds = await seed_demo(ctx.identity, ctx.settings, "http://test")
        transport = httpx.ASGITransport(app=system.gateway.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield system, http, creds
    finally:
        await system.stop()


@asynccontextmanager
async def embedded_flow(**build: Any) -> AsyncIterator[tuple[Embedded, Flow]]:
    async with embedded_api(**build) as (system, http, creds):
        tokens = {k: v["token"] for k, v in creds["users"].items()}
        yield system, Flow(http, tokens, "demo")
