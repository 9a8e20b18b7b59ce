"""A service told to stop while its broker is away still stops: closing the bus does
not wait for the broker to come back (before, SIGTERM left the process running)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from releasegate.shared.bus.amqp import AmqpBus
from releasegate.shared.bus.base import Subscription
from tests.contract.bus_messages import Recorder, routes
from tests.contract.conftest import TEST_QUEUES
from tests.helpers import eventually, server_missing
from tests.infra import local_rabbitmq

pytestmark = pytest.mark.integration


@pytest.fixture
def own_broker() -> Iterator[local_rabbitmq.LocalRabbitMQ]:
    """A broker of this test's own, so that stopping it leaves the others' alone."""
    if not local_rabbitmq.available():
        server_missing("rabbitmq-server is not installed")
    broker = local_rabbitmq.LocalRabbitMQ()
    broker.start()
    try:
        yield broker
    finally:
        broker.close()


async def test_the_bus_closes_while_the_broker_is_away(
    own_broker: local_rabbitmq.LocalRabbitMQ, namespace: str
) -> None:
    bus = AmqpBus(own_broker.url, namespace=namespace, queues=TEST_QUEUES)
    bus.subscribe(Subscription("t.all", routes(Recorder())))
    await bus.start()
    own_broker.stop()

    async def disconnected() -> bool:
        return not bus.ready

    await eventually(disconnected, what="the bus sees the broker gone")
    await asyncio.wait_for(bus.close(), timeout=15)
