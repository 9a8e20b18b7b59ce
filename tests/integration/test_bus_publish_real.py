"""Publishing on the real broker: confirmed publishes that do not wait for the socket to
drain (``bus.amqp._confirmed``) still lose nothing when many go at once, and an
unroutable command is still an error."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest
from aio_pika.exceptions import PublishError

from releasegate.shared.bus.amqp import AmqpBus
from releasegate.shared.bus.base import Subscription
from tests.contract.bus_messages import Recorder, at_least, routes, version_event
from tests.contract.conftest import TEST_QUEUES
from tests.helpers import eventually
from tests.infra.servers import Servers

pytestmark = pytest.mark.integration


async def test_concurrent_publishes_are_all_confirmed_and_delivered_once(
    servers: Servers, namespace: str
) -> None:
    bus = AmqpBus(servers.amqp_url, namespace=namespace, queues=TEST_QUEUES)
    seen = Recorder()
    bus.subscribe(Subscription("t.all", routes(seen), prefetch=64))
    await bus.start()
    try:
        events = [version_event(version=v) for v in range(1, 501)]
        await asyncio.gather(*(bus.publish(e) for e in events))
        await eventually(lambda: at_least(seen, 500), what="all 500 delivered")
        await asyncio.sleep(0.3)  # nothing more comes
        ids = [m.envelope.message_id for m in seen.seen]
        assert sorted(ids) == sorted(e.message_id for e in events)
    finally:
        await bus.close()


async def test_a_command_to_a_vanished_queue_is_an_error(servers: Servers, namespace: str) -> None:
    bus = AmqpBus(servers.amqp_url, namespace=namespace, queues=TEST_QUEUES)
    await bus.start()
    conn = await aio_pika.connect(servers.amqp_url)
    try:
        channel = await conn.channel()
        await channel.queue_delete(bus.physical("t.cmd"))
        with pytest.raises(PublishError):
            await bus.send("t.cmd", version_event())
        # The bus goes on publishing after the returned message.
        await bus.publish(version_event(version=2))
    finally:
        await conn.close()
        await bus.close()
