"""The adapters under contract: every test here runs against the in-memory adapter
and against the real server (RabbitMQ; MongoDB or FerretDB)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from releasegate.shared.bus.amqp import AmqpBus
from releasegate.shared.bus.base import Bus
from releasegate.shared.bus.memory import InMemoryBus, MemoryBroker
from releasegate.shared.bus.topology import QueueSpec
from releasegate.shared.store.base import Database
from releasegate.shared.store.memory import MemoryDatabase
from releasegate.shared.store.mongo import MongoDatabase

REAL = pytest.mark.integration


@pytest.fixture(params=["memory", pytest.param("mongo", marks=REAL)])
async def database(request: pytest.FixtureRequest, db_name: str) -> AsyncIterator[Database]:
    if request.param == "memory":
        yield MemoryDatabase()
        return
    servers = request.getfixturevalue("servers")
    db = MongoDatabase(servers.mongodb_url, db_name)
    yield db
    await db.close()


TEST_QUEUES = (
    QueueSpec("t.all", ("job.#",)),
    QueueSpec("t.star", ("job.*",)),
    QueueSpec("t.cmd"),
)
BusFactory = Callable[..., Bus]


@pytest.fixture(params=["memory", pytest.param("amqp", marks=REAL)])
async def make_bus(request: pytest.FixtureRequest, namespace: str) -> AsyncIterator[BusFactory]:
    created: list[Bus] = []
    brokers: dict[tuple[QueueSpec, ...], MemoryBroker] = {}
    url = request.getfixturevalue("servers").amqp_url if request.param == "amqp" else ""

    def factory(
        queues: tuple[QueueSpec, ...] = TEST_QUEUES,
        retry_delays_ms: list[int] | None = None,
        max_bytes: int = 4096,
    ) -> Bus:
        delays = retry_delays_ms if retry_delays_ms is not None else [50, 100]
        bus: Bus
        if request.param == "memory":
            # Buses made in one test share a broker, as clients of one RabbitMQ do.
            broker = brokers.setdefault(queues, MemoryBroker(queues))
            bus = InMemoryBus(broker, retry_delays_ms=delays, max_message_bytes=max_bytes)
        else:
            bus = AmqpBus(
                url,
                namespace=namespace,
                queues=queues,
                retry_delays_ms=delays,
                max_message_bytes=max_bytes,
                shutdown_grace_s=10,
            )
        created.append(bus)
        return bus

    yield factory
    for bus in created:
        await bus.close()
