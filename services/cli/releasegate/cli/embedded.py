"""All four services in one process over one in-memory broker and store: what
``releasegate dev`` runs, and what unit tests drive end to end."""

from __future__ import annotations

from dataclasses import dataclass

from releasegate.deployer import bootstrap as deployer
from releasegate.deployer.settings import DeployerSettings
from releasegate.deployer.targets.base import Target
from releasegate.gateway import bootstrap as gateway
from releasegate.gateway.settings import GatewaySettings
from releasegate.review import bootstrap as review
from releasegate.review.settings import ReviewSettings
from releasegate.shared.bus.memory import InMemoryBus, MemoryBroker
from releasegate.shared.clock import Clock, SystemClock
from releasegate.shared.runtime import Worker
from releasegate.shared.store.memory import MemoryDatabase
from releasegate.submission import bootstrap as submission
from releasegate.submission.settings import SubmissionSettings


@dataclass
class Embedded:
    broker: MemoryBroker
    db: MemoryDatabase
    workers: list[Worker]
    gateway: gateway.Gateway

    async def start(self) -> None:
        for worker in self.workers:
            await worker.start()
        await self.gateway.start()

    async def stop(self) -> None:
        await self.gateway.stop()
        for worker in self.workers:
            await worker.stop()


def build_embedded(
    gateway_settings: GatewaySettings | None = None,
    *,
    clock: Clock | None = None,
    retry_delays_ms: list[int] | None = None,
    target: Target | None = None,
    deployer_settings: DeployerSettings | None = None,
    db: MemoryDatabase | None = None,
) -> Embedded:
    gw_settings = gateway_settings or GatewaySettings(dev_mode=True)
    clock = clock or SystemClock()
    broker = MemoryBroker()
    db = db or MemoryDatabase()
    delays = retry_delays_ms if retry_delays_ms is not None else gw_settings.retry_delays_ms

    def bus() -> InMemoryBus:
        # One client per service on one in-process broker, as with RabbitMQ.
        return InMemoryBus(
            broker, retry_delays_ms=delays, max_message_bytes=gw_settings.max_message_bytes
        )

    workers = [
        submission.build(SubmissionSettings(dev_mode=True), bus(), db, clock),
        review.build(ReviewSettings(dev_mode=True), bus(), db, clock),
        deployer.build(
            deployer_settings or DeployerSettings(dev_mode=True), bus(), db, clock, target
        ),
    ]
    return Embedded(broker, db, workers, gateway.build(gw_settings, bus(), db, clock))
