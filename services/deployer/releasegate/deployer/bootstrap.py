"""Composition root of a deployer worker."""

from __future__ import annotations

from releasegate.deployer.deps import Deps
from releasegate.deployer.handlers import handler_table
from releasegate.deployer.repository import DeployerStore
from releasegate.deployer.settings import DeployerSettings
from releasegate.deployer.targets.base import Target
from releasegate.deployer.targets.catalog import CatalogTarget
from releasegate.deployer.targets.webhook import WebhookTarget
from releasegate.shared.bus.base import Bus, Subscription
from releasegate.shared.bus.topology import DEPLOYER_WORK
from releasegate.shared.clock import Clock, SystemClock
from releasegate.shared.locks import KeyedLocks
from releasegate.shared.runtime import Startup, Worker
from releasegate.shared.store.base import Database


def build_target(settings: DeployerSettings, bus: Bus, db: Database, clock: Clock) -> Target:
    if settings.target == "webhook":
        return WebhookTarget(
            settings.webhook_url,
            settings.webhook_secret,
            start_url=settings.webhook_start_url,
            timeout_s=settings.webhook_timeout_s,
        )
    return CatalogTarget(db, bus, clock, settings.target_latency_ms)


def build(
    settings: DeployerSettings,
    bus: Bus,
    db: Database,
    clock: Clock | None = None,
    target: Target | None = None,
) -> Worker:
    clock = clock or SystemClock()
    store = DeployerStore(db)
    locks = KeyedLocks()
    chosen = target or build_target(settings, bus, db, clock)
    deps = Deps(
        store=store,
        target=chosen,
        locks=locks,
        bus=bus,
        clock=clock,
        attempts=settings.target_attempts,
        backoff_s=settings.target_backoff_s,
        backoff_max_s=settings.target_backoff_max_s,
        progress_note_after_s=settings.progress_note_after_ms / 1000,
    )
    bus.subscribe(Subscription(DEPLOYER_WORK.name, handler_table(deps), settings.prefetch))
    startup: list[Startup] = [store.ensure_indexes]
    if isinstance(chosen, CatalogTarget):
        startup.append(chosen.ensure_indexes)
    return Worker(
        name="deployer",
        bus=bus,
        db=db,
        startup=startup,  # no ticks: a deployer keeps no outbox to sweep (see work.py)
    )
