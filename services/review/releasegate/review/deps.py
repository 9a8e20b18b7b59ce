"""What review handlers get from the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from releasegate.review.repository import ReviewStore
from releasegate.shared.bus.base import Bus
from releasegate.shared.clock import Clock
from releasegate.shared.identity import IdentityStore
from releasegate.shared.locks import KeyedLocks
from releasegate.shared.store.outbox import OutboxRelay


@dataclass(frozen=True)
class Deps:
    store: ReviewStore
    identity: IdentityStore
    bus: Bus
    locks: KeyedLocks
    relay: OutboxRelay
    clock: Clock
    rpc_timeout_s: float = 15.0
    creating_timeout_s: float = 60.0
    stuck_after_s: float = 600.0
