"""Composition root of the review service."""

from __future__ import annotations

from releasegate.review.handlers import Deps, handler_table
from releasegate.review.settings import ReviewSettings
from releasegate.shared.bus.base import Bus, Subscription
from releasegate.shared.bus.topology import REVIEW_INBOX
from releasegate.shared.clock import Clock, SystemClock
from releasegate.shared.locks import KeyedLocks
from releasegate.shared.runtime import Worker
from releasegate.shared.store.base import Database


def build(settings: ReviewSettings, bus: Bus, db: Database, clock: Clock | None = None) -> Worker:
    deps = Deps(locks=KeyedLocks(), clock=clock or SystemClock())
    bus.subscribe(Subscription(REVIEW_INBOX.name, handler_table(deps), settings.prefetch))
    return Worker(name="review", bus=bus, db=db, sweep_interval_s=settings.outbox_sweep_interval_s)
