"""Composition root of the gateway."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from releasegate.gateway.app import create_app
from releasegate.gateway.context import GatewayContext
from releasegate.gateway.idempotency import IdempotencyStore
from releasegate.gateway.identity_cache import CachedIdentityStore
from releasegate.gateway.replay import SeenSignatures
from releasegate.gateway.settings import GatewaySettings, credential_store
from releasegate.gateway.token_cache import VerifiedTokens
from releasegate.shared.bus.base import Bus
from releasegate.shared.clock import Clock, SystemClock
from releasegate.shared.store.base import Database
from releasegate.shared.tokens import TokenKeys


@dataclass
class Gateway:
    app: FastAPI
    context: GatewayContext

    async def start(self) -> None:
        ctx = self.context
        await ctx.identity.ensure_indexes()
        await ctx.credentials.ensure_indexes()
        await ctx.seen_signatures.ensure_indexes()
        await ctx.idempotency.ensure_indexes()
        await ctx.bus.start()

    async def stop(self) -> None:
        await self.context.bus.close()


def build(settings: GatewaySettings, bus: Bus, db: Database, clock: Clock | None = None) -> Gateway:
    clock = clock or SystemClock()
    # A pending idempotency claim outlives the slowest request before it is taken over.
    lease_ms = int((2 * settings.rpc_timeout_s + 30) * 1000)
    context = GatewayContext(
        settings=settings,
        bus=bus,
        db=db,
        identity=CachedIdentityStore(db, clock, int(settings.identity_cache_ttl_s * 1000)),
        clock=clock,
        token_keys=TokenKeys.load(settings.token_secret, settings.token_jwks_file),
        credentials=credential_store(settings, db),
        seen_signatures=SeenSignatures(db, clock),
        idempotency=IdempotencyStore(db, clock, settings.idempotency_ttl_s * 1000, lease_ms),
        verified_tokens=VerifiedTokens(),
    )
    return Gateway(app=create_app(context), context=context)
