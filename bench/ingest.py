"""Benchmark 2, ingest throughput: upstream ``job.version.submitted`` events -> release
tasks (pending items), events/s sustained over 20,000 events.

Both sides start with every event already queued (published before the consumer
starts), so the number is the consumer's rate, not the publisher's:
- releasegate: the submission service (its own process) drains ``submission.inbox``;
- floor: a raw aio-pika consumer (same prefetch) inserting one document per event with
  PyMongo and acking after the insert.
Both are measured the same way, between 5 % and 100 % of the events: progress is read
from the queue's depth (a passive declare, cheap for the broker), and the end is when
the database holds every document. Counting the documents all along, as this did
first, cost FerretDB 0.7 s of CPU per count at 20,000 documents (it decodes every
one), four times a second: most of the server's CPU went to the measurement.
Target: releasegate >= 50 % of the floor."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import aio_pika
from pymongo import AsyncMongoClient

from bench.common import (
    PROJECT,
    Result,
    name,
    publish_confirmed,
    queue_versions,
    report,
    save,
    size,
    version_body,
)
from releasegate.shared.bus.topology import SUBMISSION_INBOX
from releasegate.shared.readmodels.pending_items import TASKS
from tests.infra.processes import Stack
from tests.infra.servers import Servers

PREFETCH = 64  # the submission service's default


async def _rate(
    channel: aio_pika.abc.AbstractChannel,
    queue_name: str,
    count: Callable[[], Awaitable[int]],
    total: int,
    timeout: float,
) -> tuple[float, list[tuple[float, int]]]:
    """Events/s between 5 % and 100 % of ``total``: done = ``total`` minus the events
    still ready in ``queue_name`` (those in flight, at most the prefetch, count as
    done); once the queue is empty, ``count()`` (documents stored) decides the end."""
    samples: list[tuple[float, int]] = []
    deadline = time.monotonic() + timeout
    start: tuple[float, int] | None = None
    while time.monotonic() < deadline:
        queue = await channel.declare_queue(queue_name, passive=True)
        ready = queue.declaration_result.message_count or 0
        n = total - ready if ready else await count()
        now = time.monotonic()
        samples.append((now, n))
        if start is None and n >= total * 0.05:
            start = (now, n)
        if n >= total and not ready:
            assert start is not None
            return (n - start[1]) / max(now - start[0], 1e-6), samples
        await asyncio.sleep(0.25)
    raise TimeoutError(f"only {samples[-1][1]} of {total} after {timeout}s")


async def _releasegate(servers: Servers, total: int) -> tuple[float, list[tuple[float, int]]]:
    s = Stack(servers, name(), name())
    await queue_versions(s, "ing", total)
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(servers.mongodb_url)
    tasks = client[s.db_name][TASKS]
    conn = await aio_pika.connect(servers.amqp_url)
    proc = s.add("submission")
    try:
        proc.wait_ready()
        inbox = f"{s.namespace}.{SUBMISSION_INBOX.name}"
        return await _rate(
            await conn.channel(), inbox, lambda: tasks.count_documents({}), total, 1800
        )
    finally:
        s.stop()
        await conn.close()
        await client.close()


async def _floor(servers: Servers, total: int) -> tuple[float, list[tuple[float, int]]]:
    conn = await aio_pika.connect(servers.amqp_url)
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(servers.mongodb_url)
    db = name()
    try:
        pub = await conn.channel(publisher_confirms=True)
        queue_name = f"floor.{name()}"
        await pub.declare_queue(queue_name, durable=True, arguments={"x-queue-type": "quorum"})
        await publish_confirmed(
            pub.default_exchange, ((queue_name, version_body("raw", i)[1]) for i in range(total))
        )
        docs = client[db]["tasks"]
        sub = await conn.channel()
        await sub.set_qos(prefetch_count=PREFETCH)
        queue = await sub.get_queue(queue_name)

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await docs.insert_one({"_id": message.body[:64].hex(), "body": message.body.decode()})
            await message.ack()

        # Each message is its own task, as aio-pika runs a releasegate consumer.
        await queue.consume(on_message)
        rate, samples = await _rate(pub, queue_name, lambda: docs.count_documents({}), total, 1800)
        await queue.delete(if_unused=False, if_empty=False)
        return rate, samples
    finally:
        await client.drop_database(db)
        await client.close()
        await conn.close()


async def run(servers: Servers) -> list[Result]:
    total = size(20_000, 1_000)
    floor, _ = await _floor(servers, total)
    print(f"[ingest] floor {floor:.0f} events/s", flush=True)
    measured, samples = await _releasegate(servers, total)
    result = report(
        Result(
            "ingest",
            f"events/s over {total} events (prefetch {PREFETCH})",
            "events/s",
            floor,
            measured,
            measured / floor,
            ">= 0.5x floor",
            measured >= 0.5 * floor,
            {"samples": [(round(t - samples[0][0], 2), n) for t, n in samples][::4]},
        )
    )
    save("ingest", [result], {"project": PROJECT})
    return [result]
