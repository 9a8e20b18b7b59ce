"""Composition root of a deployer worker."""

from __future__ import annotations

from releasegate.deployer.handlers import Deps, handler_table
from releasegate.deployer.settings import DeployerSettings
from releasegate.shared.bus.base import Bus, Subscription
from releasegate.shared.bus.topology import DEPLOYER_WORK
from releasegate.shared.clock import Clock, SystemClock
from releasegate.shared.runtime import Worker
from releasegate.shared.store.base import Database


def build(settings: DeployerSettings, bus: Bus, db: Database, clock: Clock | None = None) -> Worker:
    deps = Deps(clock=clock or SystemClock())
    bus.subscribe(Subscription(DEPLOYER_WORK.name, handler_table(deps), settings.prefetch))
    return Worker(
        name="deployer", bus=bus, db=db, sweep_interval_s=settings.outbox_sweep_interval_s
    )
