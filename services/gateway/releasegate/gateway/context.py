"""What route handlers get: the gateway's clients, as one object on app.state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from releasegate.gateway.identity_cache import CachedIdentityStore
from releasegate.gateway.settings import GatewaySettings
from releasegate.gateway.token_cache import VerifiedTokens
from releasegate.shared.bus.base import Bus
from releasegate.shared.clock import Clock
from releasegate.shared.credentials import CredentialStore
from releasegate.shared.store.base import Database
from releasegate.shared.tokens import TokenKeys

if TYPE_CHECKING:
    from releasegate.gateway.idempotency import IdempotencyStore
    from releasegate.gateway.replay import SeenSignatures


@dataclass
class GatewayContext:
    settings: GatewaySettings
    bus: Bus
    db: Database
    identity: CachedIdentityStore  # users and projects read through a short-lived cache
    clock: Clock
    token_keys: TokenKeys
    credentials: CredentialStore
    seen_signatures: SeenSignatures
    idempotency: IdempotencyStore
    verified_tokens: VerifiedTokens


async def _context(request: Request) -> GatewayContext:
    # async: FastAPI runs a plain ``def`` dependency on a worker thread, per request.
    ctx: GatewayContext = request.app.state.context
    return ctx


Context = Annotated[GatewayContext, Depends(_context)]
