"""The raw floors the benchmarks compare against: what the bare clients (aio-pika,
PyMongo, one HTTP round trip) do on the same servers, with no releasegate code."""

from __future__ import annotations

import asyncio
import time
import uuid

import aio_pika
import httpx
from pymongo import AsyncMongoClient

from bench.common import median


async def http_round_trip_ms(base_url: str, n: int = 50) -> float:
    """Median of one keep-alive HTTP round trip to the gateway (liveness probe)."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        await http.get("/health/live")
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            r = await http.get("/health/live")
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200
        return median(times)


async def amqp_round_trips_ms(amqp_url: str, n: int = 100) -> float:
    """``n`` sequential persistent, confirmed publish -> consume -> ack round trips on a
    durable quorum queue (the queue type every releasegate queue has)."""
    conn = await aio_pika.connect(amqp_url)
    try:
        pub = await conn.channel(publisher_confirms=True)
        sub = await conn.channel()
        await sub.set_qos(prefetch_count=1)
        name = f"floor.{uuid.uuid4().hex[:10]}"
        queue = await sub.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
        got: asyncio.Queue[None] = asyncio.Queue()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()
            got.put_nowait(None)

        await queue.consume(on_message)
        body = b"x" * 600  # about a deploy.task envelope
        t0 = time.perf_counter()
        for _ in range(n):
            await pub.default_exchange.publish(
                aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), name
            )
            await got.get()
        elapsed = (time.perf_counter() - t0) * 1000
        await queue.delete(if_unused=False, if_empty=False)
        return elapsed
    finally:
        await conn.close()


async def mongo_updates_ms(mongodb_url: str, n: int = 100) -> float:
    """``n`` sequential single-document ``$set`` updates by ``_id``."""
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongodb_url)
    try:
        coll = client[f"floor{uuid.uuid4().hex[:8]}"]["docs"]
        await coll.insert_many([{"_id": i, "status": 0} for i in range(n)])
        t0 = time.perf_counter()
        for i in range(n):
            await coll.update_one({"_id": i}, {"$set": {"status": 2, "at": time.time()}})
        elapsed = (time.perf_counter() - t0) * 1000
        await client.drop_database(coll.database.name)
        return elapsed
    finally:
        await client.close()
