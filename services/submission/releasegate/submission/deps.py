"""What submission handlers get from the composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from releasegate.shared.bus.base import Bus
from releasegate.shared.clock import Clock
from releasegate.shared.locks import KeyedLocks
from releasegate.shared.store.outbox import OutboxRelay
from releasegate.submission.batches import Inserts
from releasegate.submission.claims import ItemClaims
from releasegate.submission.repository import SubmissionStore


@dataclass(frozen=True)
class Deps:
    store: SubmissionStore
    locks: KeyedLocks
    tasks_relay: OutboxRelay
    inserts: Inserts  # concurrent submissions' inserts, written together
    claims: ItemClaims  # which items are new, without reading them
    bus: Bus  # announcements that need no outbox (see versions._record)
    clock: Clock
    versions_kept: int = 100

    @asynccontextmanager
    async def items_locked(self, keys: Iterable[str]) -> AsyncIterator[None]:
        """Hold several items' locks, always in the same order (no deadlock)."""
        async with AsyncExitStack() as stack:
            for key in sorted(set(keys)):
                await stack.enter_async_context(self.locks.hold(key))
            yield
