"""Composition root of the gateway."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from releasegate.gateway.app import create_app
from releasegate.gateway.context import GatewayContext
from releasegate.gateway.settings import GatewaySettings
from releasegate.shared.bus.base import Bus
from releasegate.shared.clock import Clock, SystemClock
from releasegate.shared.identity import IdentityStore
from releasegate.shared.store.base import Database


@dataclass
class Gateway:
    app: FastAPI
    context: GatewayContext

    async def start(self) -> None:
        await self.context.identity.ensure_indexes()
        await self.context.bus.start()

    async def stop(self) -> None:
        await self.context.bus.close()


def build(settings: GatewaySettings, bus: Bus, db: Database, clock: Clock | None = None) -> Gateway:
    context = GatewayContext(
        settings=settings, bus=bus, db=db, identity=IdentityStore(db), clock=clock or SystemClock()
    )
    return Gateway(app=create_app(context), context=context)
