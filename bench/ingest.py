"""Benchmark 2, ingest throughput: upstream ``job.version.submitted`` events -> release
tasks (pending items), events/s sustained over 20,000 events.

Both sides start with every event already queued (published before the consumer
starts), so the number is the consumer's rate, not the publisher's:
- releasegate: the submission service (its own process) drains ``submission.inbox``;
- floor: a raw aio-pika consumer (same prefetch) inserting one document per event with
  PyMongo and acking after the insert.
Floor and service alternate, a pair at a time, each after the machine is quiet: the
floor, bound by the database's inserts, moved by a quarter from one minute to the next
(799-1,308 events/s in one hour), so each ratio pairs a service run with the floor of
the same minutes; the result is the median ratio. Each side also records the machine's
cores busy while it ran.
Both are measured the same way, between 5 % and 100 % of the events: progress is read
from the queue's depth (a passive declare, cheap for the broker). Once no event is left
ready, the end is when the documents of the last ``2 x PREFETCH`` events are stored
(looked up by ``_id``: events are delivered in order, at most ``PREFETCH`` at a time);
then one count, outside the timing, checks that every document is there (if not, the
timing goes on until it is). Counting the documents is what this did first, all along
and then at the end: FerretDB decodes every document to count them, 2 s and about 3 s
of CPU per count at 20,000 tasks, which slowed the very work being timed.
Target: releasegate >= 50 % of the floor."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import aio_pika
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from bench.common import (
    PROJECT,
    WORKSPACE,
    Result,
    item_name,
    median,
    name,
    publish_confirmed,
    queue_versions,
    quiet,
    report,
    save,
    size,
    version_body,
)
from bench.cpu import CpuMeter, ProcessCpu, per_unit_ms
from releasegate.shared.bus.topology import SUBMISSION_INBOX
from releasegate.submission.domain import item_id_for, item_key
from releasegate.submission.repository import ITEMS
from tests.infra.processes import Stack
from tests.infra.servers import Servers

PREFETCH = 64  # the submission service's default
# events/s, samples, cores busy, CPU ms per event by kind of process
Run = tuple[float, list[tuple[float, int]], float, dict[str, float]]


@dataclass
class Stored:
    """How the measurement sees what a side has stored."""

    collection: AsyncCollection[dict[str, Any]]
    last_ids: list[str]  # the documents of the last events published

    async def last_in(self) -> bool:
        found = await asyncio.gather(
            *(self.collection.find_one({"_id": i}, {"_id": 1}) for i in self.last_ids)
        )
        return all(found)

    async def count(self) -> int:
        return await self.collection.count_documents({})


async def _rate(
    channel: aio_pika.abc.AbstractChannel,
    queue_name: str,
    stored: Stored,
    total: int,
    timeout: float,
) -> Run:
    """Events/s between 5 % and 100 % of ``total``: done = ``total`` minus the events
    still ready in ``queue_name`` (those in flight, at most the prefetch, count as
    done); once none is ready, the last events' documents decide the end. With it, the
    cores busy and each kind of process's CPU per event over the same span."""
    samples: list[tuple[float, int]] = []
    deadline = time.monotonic() + timeout
    start: tuple[float, int] | None = None
    cpu, split = CpuMeter(), ProcessCpu()
    while time.monotonic() < deadline:
        queue = await channel.declare_queue(queue_name, passive=True)
        ready = queue.declaration_result.message_count or 0
        n = total - ready
        if not ready and await stored.last_in():
            end = time.monotonic()
            assert start is not None  # 5 % were seen done before all were
            busy, spent = cpu.read(), split.read()
            n = await stored.count()  # untimed: one count, to be sure
            if n >= total:
                samples.append((end, total))
                per_event = per_unit_ms(spent, total - start[1])
                return (total - start[1]) / max(end - start[0], 1e-6), samples, busy, per_event
            # An early event was retried: the timing goes on until it is stored too.
        now = time.monotonic()
        samples.append((now, n))
        if start is None and n >= total * 0.05:
            start = (now, n)
            cpu.start()
            split.start()
        await asyncio.sleep(0.25)
    raise TimeoutError(f"only {samples[-1][1]} of {total} after {timeout}s")


async def _releasegate(servers: Servers, total: int) -> Run:
    s = Stack(servers, name(), name())
    await queue_versions(s, "ing", total)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.mongodb_url)
    items = client[s.db_name][ITEMS]
    conn = await aio_pika.connect(servers.amqp_url)
    proc = s.add("submission")
    try:
        proc.wait_ready()
        inbox = f"{s.namespace}.{SUBMISSION_INBOX.name}"
        # An item is written last, once its event is handled (submission.versions).
        names = [item_name("ing", i) for i in range(total - 2 * PREFETCH, total)]
        keys = [item_key(PROJECT, WORKSPACE, "job", item_id_for("job", n, None)) for n in names]
        return await _rate(await conn.channel(), inbox, Stored(items, keys), total, 1800)
    finally:
        s.stop()
        await conn.close()
        await client.drop_database(s.db_name)  # as the floor does
        await client.close()


async def _floor(servers: Servers, total: int) -> Run:
    conn = await aio_pika.connect(servers.amqp_url)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.mongodb_url)
    db = name()
    try:
        pub = await conn.channel(publisher_confirms=True)
        queue_name = f"floor.{name()}"
        await pub.declare_queue(queue_name, durable=True, arguments={"x-queue-type": "quorum"})
        bodies = [version_body("raw", i)[1] for i in range(total)]  # ids are random
        await publish_confirmed(pub.default_exchange, ((queue_name, b) for b in bodies))
        last = [_floor_id(b) for b in bodies[-2 * PREFETCH :]]
        docs = client[db]["tasks"]
        sub = await conn.channel()
        await sub.set_qos(prefetch_count=PREFETCH)
        queue = await sub.get_queue(queue_name)

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await docs.insert_one({"_id": _floor_id(message.body), "body": message.body.decode()})
            await message.ack()

        # Each message is its own task, as aio-pika runs a releasegate consumer.
        await queue.consume(on_message)
        run = await _rate(pub, queue_name, Stored(docs, last), total, 1800)
        await queue.delete(if_unused=False, if_empty=False)
        return run
    finally:
        await client.drop_database(db)
        await client.close()
        await conn.close()


def _floor_id(body: bytes) -> str:
    return body[:64].hex()


async def run(servers: Servers) -> list[Result]:
    total = size(20_000, 1_000)
    pairs: list[dict[str, Any]] = []
    samples: list[tuple[float, int]] = []
    for _ in range(size(3, 1)):
        await quiet()
        floor, _, floor_busy, floor_cpu = await _floor(servers, total)
        print(
            f"[ingest] floor {floor:.0f} events/s ({floor_busy} cores busy; "
            f"CPU ms per event {floor_cpu})",
            flush=True,
        )
        await quiet()
        rate, samples, busy, cpu = await _releasegate(servers, total)
        print(
            f"[ingest] releasegate {rate:.0f} events/s ({busy} cores busy; CPU ms per event {cpu})",
            flush=True,
        )
        pairs.append(
            {
                "floor": round(floor, 1),
                "releasegate": round(rate, 1),
                "ratio": round(rate / floor, 3),
                "floor_busy_cores": floor_busy,
                "releasegate_busy_cores": busy,
                "floor_cpu_ms_per_event": floor_cpu,  # the raw consumer is "benchmark"
                "releasegate_cpu_ms_per_event": cpu,
            }
        )
    ratio = median([p["ratio"] for p in pairs])
    result = report(
        Result(
            "ingest",
            f"events/s over {total} events (prefetch {PREFETCH}), median of {len(pairs)} pairs",
            "events/s",
            median([p["floor"] for p in pairs]),
            median([p["releasegate"] for p in pairs]),
            ratio,
            ">= 0.5x floor",
            ratio >= 0.5,
            {
                "pairs": pairs,
                "samples": [(round(t - samples[0][0], 2), n) for t, n in samples][::4],
            },
        )
    )
    save("ingest", [result], {"project": PROJECT})
    return [result]
