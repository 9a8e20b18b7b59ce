"""1,000 malformed or unknown messages on every queue: all dead-lettered with a
reason, every service stays ready and keeps releasing good work meanwhile."""

from __future__ import annotations

import json

import aio_pika
import httpx

from releasegate.shared.bus.amqp import AmqpBus
from releasegate.shared.bus.topology import QUEUES
from releasegate.shared.store.mongo import MongoDatabase
from tests.chaos.conftest import figure
from tests.chaos.support import (
    deploy,
    exactly_once,
    packages_of,
    pending_ids,
    publish_versions,
    successful,
    version_event,
)
from tests.e2e.conftest import seed_users
from tests.flows import Flow
from tests.helpers import eventually
from tests.infra.processes import Stack

PER_QUEUE = 1000


def poison(i: int) -> bytes:
    """Five kinds in turn: not JSON, no envelope, unknown type, invalid payload,
    unknown schema version."""
    good = json.loads(version_event("poison_", i))
    kind = i % 5
    if kind == 0:
        return b"\x00\xffnot json " + str(i).encode()
    if kind == 1:
        return json.dumps({"type": "job.version.submitted", "n": i}).encode()
    if kind == 2:
        return json.dumps({**good, "type": "no.such.event"}).encode()
    if kind == 3:
        return json.dumps({**good, "payload": {"item_name": "", "version": -1}}).encode()
    return json.dumps({**good, "schema_version": 99}).encode()


async def test_poison_on_every_queue_is_dead_lettered_and_work_goes_on(stack: Stack) -> None:
    servers = stack.servers
    db = MongoDatabase(servers.mongodb_url, stack.db_name)
    conn = await aio_pika.connect(servers.amqp_url)
    try:
        tokens = await seed_users(stack)
        channel = await conn.channel(publisher_confirms=True)
        for spec in QUEUES:
            for i in range(PER_QUEUE):
                await channel.default_exchange.publish(
                    aio_pika.Message(poison(i), delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    f"{stack.namespace}.{spec.name}",
                )
        # Good work behind the poison, on the same queues.
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as http:
            flow = Flow(http, tokens, "p1", timeout=60)
            await publish_versions(servers.amqp_url, stack.namespace, "good_", 10)
            packages = await packages_of(flow, await pending_ids(db, "good_", 10))
            await successful(flow, await deploy(flow, packages), timeout=90)
        tally = await exactly_once(db, packages, 10)
        assert (tally.lost, tally.duplicated) == (0, 0), tally
        assert all(p.ready() for p in stack.processes.values())
        assert all(p.proc is not None and p.proc.poll() is None for p in stack.processes.values())

        bus = AmqpBus(servers.amqp_url, namespace=stack.namespace)
        await bus.start()
        try:
            for spec in QUEUES:

                async def dead(name: str = spec.name) -> int:
                    queue = await channel.declare_queue(
                        f"{stack.namespace}.{name}.dead", passive=True
                    )
                    return int(queue.declaration_result.message_count or 0)

                async def all_dead(name: str = spec.name) -> bool:
                    return await dead(name) >= PER_QUEUE

                await eventually(all_dead, timeout=90, interval=0.5, what=f"{spec.name}.dead")
                letters = await bus.take_dead_letters(spec.name, limit=PER_QUEUE + 10)
                assert len(letters) == PER_QUEUE, (spec.name, len(letters))
                reasons = [d.reason for d in letters]
                assert all(reasons), "a dead letter without a reason"
                for needle in ("malformed envelope", "unknown message type", "invalid"):
                    assert any(needle in r for r in reasons), (spec.name, needle, reasons[:5])
        finally:
            await bus.close()
        figure(
            "1,000 poison messages per queue",
            PER_QUEUE * len(QUEUES),
            len(packages),
            tally.lost,
            tally.duplicated,
            dead_lettered_with_a_reason=PER_QUEUE * len(QUEUES),
        )
    finally:
        await conn.close()
        await db.close()
