"""Composition root of the review service."""

from __future__ import annotations

from releasegate.review.deps import Deps
from releasegate.review.handlers import handler_table
from releasegate.review.repository import ReviewStore
from releasegate.review.settings import ReviewSettings
from releasegate.shared.bus.base import Bus, Subscription
from releasegate.shared.bus.topology import REVIEW_INBOX
from releasegate.shared.clock import Clock, SystemClock
from releasegate.shared.groupcommit import GroupCommit
from releasegate.shared.identity import IdentityStore
from releasegate.shared.locks import KeyedLocks
from releasegate.shared.runtime import Worker
from releasegate.shared.store.base import Database
from releasegate.shared.store.outbox import OutboxRelay


def build(settings: ReviewSettings, bus: Bus, db: Database, clock: Clock | None = None) -> Worker:
    store = ReviewStore(db)
    locks = KeyedLocks()
    relay = OutboxRelay(store.packages, bus, locks)
    deps = Deps(
        store=store,
        identity=IdentityStore(db),
        bus=bus,
        locks=locks,
        relay=relay,
        clock=clock or SystemClock(),
        outcomes=GroupCommit(
            locks, linger_s=settings.progress_linger_ms / 1000, max_batch=settings.prefetch
        ),
        rpc_timeout_s=settings.rpc_timeout_s,
        creating_timeout_s=settings.creating_timeout_s,
        stuck_after_s=settings.stuck_after_s,
    )
    bus.subscribe(Subscription(REVIEW_INBOX.name, handler_table(deps), settings.prefetch))
    return Worker(
        name="review",
        bus=bus,
        db=db,
        tick_queue=REVIEW_INBOX.name,
        startup=[store.ensure_indexes],
        sweep_interval_s=settings.sweep_interval_s,
    )
