"""Every message delivered twice: the four services run in this process on the real
servers, each with a bus that sends every publish, send and request a second time
(through the composition roots, no hooks in production code). No effect doubles."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from releasegate.deployer import bootstrap as deployer
from releasegate.deployer.settings import DeployerSettings
from releasegate.gateway import bootstrap as gateway
from releasegate.gateway.settings import GatewaySettings
from releasegate.review import bootstrap as review
from releasegate.review.settings import ReviewSettings
from releasegate.shared.bus.amqp import AmqpBus
from releasegate.shared.bus.base import DeadLetter, Subscription
from releasegate.shared.contracts import Envelope
from releasegate.shared.contracts.rpc import Reply
from releasegate.shared.readmodels.packages import PACKAGES
from releasegate.shared.readmodels.pending_items import TASKS
from releasegate.shared.runtime import Worker
from releasegate.shared.store.mongo import MongoDatabase
from releasegate.submission import bootstrap as submission
from releasegate.submission.repository import VERSIONS
from releasegate.submission.settings import SubmissionSettings
from tests.chaos.conftest import figure
from tests.chaos.support import deploy, exactly_once, successful
from tests.e2e.conftest import seed_users
from tests.events import version_submitted
from tests.flows import Flow
from tests.infra.servers import Servers

TASKS_N = 20


class DuplicatingBus:
    """A Bus that delivers everything twice: a fake of the broker's redelivery."""

    def __init__(self, inner: AmqpBus) -> None:
        self.inner = inner
        self.metrics = inner.metrics
        self.copies = 0

    def subscribe(self, subscription: Subscription) -> None:
        self.inner.subscribe(subscription)

    async def start(self) -> None:
        await self.inner.start()

    async def publish(self, envelope: Envelope) -> None:
        await self.inner.publish(envelope)
        await self.inner.publish(envelope)
        self.copies += 1

    async def send(self, queue: str, envelope: Envelope) -> None:
        await self.inner.send(queue, envelope)
        await self.inner.send(queue, envelope)
        self.copies += 1

    async def request(self, queue: str, envelope: Envelope, timeout: float = 10.0) -> Reply:
        # The caller gets the first answer; the command is then delivered again, as
        # after a consumer died before its ack.
        reply = await self.inner.request(queue, envelope, timeout)
        await self.inner.send(queue, envelope)
        self.copies += 1
        return reply

    async def publish_raw(self, routing_key: str, body: bytes) -> None:
        await self.inner.publish_raw(routing_key, body)
        await self.inner.publish_raw(routing_key, body)
        self.copies += 1

    async def take_dead_letters(self, queue: str, limit: int = 1000) -> list[DeadLetter]:
        return await self.inner.take_dead_letters(queue, limit)

    async def close(self) -> None:
        await self.inner.close()

    @property
    def ready(self) -> bool:
        return self.inner.ready


@pytest.fixture
async def doubled(
    servers: Servers, namespace: str, db_name: str
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str], MongoDatabase, list[DuplicatingBus]]]:
    secret = secrets.token_hex(32)
    common: dict[str, Any] = {
        "dev_mode": True,
        "token_secret": secret,
        "bus_namespace": namespace,
        "mongodb_db": db_name,
        "outbox_sweep_interval_s": 1.0,
    }
    buses: list[DuplicatingBus] = []

    def bus(name: str) -> DuplicatingBus:
        buses.append(
            DuplicatingBus(
                AmqpBus(
                    servers.amqp_url,
                    namespace=namespace,
                    retry_delays_ms=[50, 100, 200],
                    connection_name=name,
                )
            )
        )
        return buses[-1]

    db = MongoDatabase(servers.mongodb_url, db_name)
    workers: list[Worker] = [
        submission.build(SubmissionSettings(**common), bus("submission"), db),
        review.build(ReviewSettings(**common), bus("review"), db),
        deployer.build(DeployerSettings(**common), bus("deployer"), db),
    ]
    gw = gateway.build(GatewaySettings(**common), bus("gateway"), db)
    for worker in workers:
        await worker.start()
    await gw.start()
    tokens = await seed_users(
        SimpleNamespace(servers=servers, db_name=db_name, token_secret=secret)  # type: ignore[arg-type]
    )
    transport = httpx.ASGITransport(app=gw.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http, tokens, db, buses
    await gw.stop()
    for worker in workers:
        await worker.stop()
    await db.close()


async def test_every_message_delivered_twice_has_no_duplicate_effect(
    doubled: tuple[httpx.AsyncClient, dict[str, str], MongoDatabase, list[DuplicatingBus]],
) -> None:
    http, tokens, db, buses = doubled
    flow = Flow(http, tokens, "p1", timeout=60)
    for i in range(TASKS_N):
        r = await http.post(
            flow.url("/events"),
            json=version_submitted(f"dup{i:02d}", submitter="u-dev"),
            headers=flow.headers("dev"),
        )
        assert r.status_code == 202, r.text

    async def all_pending() -> list[str] | None:
        data = (await flow.pending(item_name="dup"))["data"]
        return [d["pending_item_id"] for d in data] if len(data) >= TASKS_N else None

    from tests.helpers import eventually

    ids = await eventually(all_pending, timeout=60, what="pending items")
    package = await flow.package(ids, name="doubled")
    await successful(flow, await deploy(flow, [package]), timeout=90)
    await asyncio.sleep(2)  # the trailing copies are handled too

    tally = await exactly_once(db, [package], TASKS_N)
    assert (tally.lost, tally.duplicated) == (0, 0), tally
    assert await db.collection(TASKS).count({"item_name": {"$regex": "^dup"}}) == TASKS_N
    assert await db.collection(VERSIONS).count({"item_name": {"$regex": "^dup"}}) == TASKS_N
    assert await db.collection(PACKAGES).count({"state": "ready"}) == 1
    copies = sum(b.copies for b in buses)
    assert copies > 3 * TASKS_N
    figure(
        "every message delivered twice",
        copies,
        1,
        tally.lost,
        tally.duplicated,
        tasks=TASKS_N,
    )
