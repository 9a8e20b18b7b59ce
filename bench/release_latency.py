"""Benchmark 1, release latency: the deploy call -> every task of a 100-task package
deployed (catalog target) and visible through polling the async task.

Floor, measured in the same run on the same servers: one HTTP round trip + 100
persistent, confirmed publish -> consume -> ack round trips (raw aio-pika) + 100 raw
single-document updates (PyMongo). Target: median latency <= 3x the floor."""

from __future__ import annotations

import time

from bench.common import (
    Client,
    Result,
    median,
    quiet,
    report,
    save,
    size,
    stack,
    until,
)
from bench.cpu import steal_s
from bench.floors import amqp_round_trips_ms, http_round_trip_ms, mongo_updates_ms
from tests.infra.servers import Servers

TASKS = 100


async def _release_once(client: Client, package_id: str) -> float:
    t0 = time.perf_counter()
    [asy_task_id] = await client.deploy([package_id])
    await until(lambda: client.done(asy_task_id), timeout=600, interval=0.01, what="release")
    return (time.perf_counter() - t0) * 1000


async def run(servers: Servers) -> list[Result]:
    reps = size(7, 3)
    with stack(servers) as s:
        client = await Client.open(s)
        try:
            packages = await client.packages("lat", reps, TASKS)
            latencies, floors, waits = [], [], []
            stolen = steal_s()  # over the floors and releases alone
            for package_id in packages:
                # Floor and measurement alternate, so both see the same machine state:
                # a quiet one. (A fixed half second let the services' end of the
                # previous release, about a second of CPU, run into the next floor.)
                waits.append(await quiet())
                floors.append(
                    await http_round_trip_ms(s.base_url)
                    + await amqp_round_trips_ms(servers.amqp_url, TASKS)
                    + await mongo_updates_ms(servers.mongodb_url, TASKS)
                )
                latencies.append(await _release_once(client, package_id))
            stolen = round(steal_s() - stolen, 2)
        finally:
            await client.close()
    floor, measured = median(floors), median(latencies)
    result = report(
        Result(
            "release_latency",
            f"deploy -> {TASKS} tasks deployed and polled (median of {reps})",
            "ms",
            floor,
            measured,
            measured / floor,
            "<= 3.0x floor",
            measured <= 3 * floor,
            {
                "latencies_ms": latencies,
                "floors_ms": floors,
                "quiet_waits_s": waits,
                "steal_s": stolen,
            },
        )
    )
    save("release_latency", [result])
    return [result]
