"""Composition root of the submission service: settings, clients, store, handlers."""

from __future__ import annotations

from releasegate.shared.bus.base import Bus, Subscription
from releasegate.shared.bus.topology import SUBMISSION_INBOX
from releasegate.shared.clock import Clock, SystemClock
from releasegate.shared.locks import KeyedLocks
from releasegate.shared.runtime import Worker
from releasegate.shared.store.base import Database
from releasegate.shared.store.outbox import OutboxRelay
from releasegate.submission.batches import Inserts
from releasegate.submission.claims import CLAIMS, ItemClaims
from releasegate.submission.deps import Deps
from releasegate.submission.handlers import handler_table
from releasegate.submission.repository import SubmissionStore
from releasegate.submission.settings import SubmissionSettings


def build(
    settings: SubmissionSettings, bus: Bus, db: Database, clock: Clock | None = None
) -> Worker:
    store = SubmissionStore(db)
    locks = KeyedLocks()
    claims = ItemClaims(db.collection(CLAIMS), store.items, settings.item_hint_capacity)
    tasks_relay = OutboxRelay(store.tasks, bus, locks, lock_field="item_key")
    deps = Deps(
        store=store,
        locks=locks,
        tasks_relay=tasks_relay,
        inserts=Inserts(store),
        claims=claims,
        bus=bus,
        clock=clock or SystemClock(),
        versions_kept=settings.versions_kept,
    )
    bus.subscribe(Subscription(SUBMISSION_INBOX.name, handler_table(deps), settings.prefetch))
    return Worker(
        name="submission",
        bus=bus,
        db=db,
        tick_queue=SUBMISSION_INBOX.name,
        startup=[store.ensure_indexes, claims.backfill],
        background=[claims.keep_learnt],
        sweep_interval_s=settings.outbox_sweep_interval_s,
    )
