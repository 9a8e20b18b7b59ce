"""Benchmark 5, memory: RSS of each service process idle, then after N/2 and N released
packages (one task each, catalog target; N = 10,000, 400 in quick mode). Target:
growth under 10 % between N/2 and N (no leak)."""

from __future__ import annotations

import asyncio
import time

from pymongo import AsyncMongoClient

from bench.common import Client, Result, report, rss_kb, save, size, stack, until
from releasegate.shared.readmodels.packages import PACKAGES
from tests.infra.servers import Servers

BATCH = 50


async def _release_batch(client: Client, tag: str) -> None:
    ids = await client.packages(tag, BATCH, 1)
    # One deploy call of 10 packages at a time: each call is answered within the
    # gateway's request/reply timeout even when the database is slow.
    for i in range(0, len(ids), 10):
        await client.deploy(ids[i : i + 10])


async def run(servers: Servers) -> list[Result]:
    total = size(10_000, 400)
    with stack(servers) as s:
        client = await Client.open(s)
        mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(servers.mongodb_url)
        packages = mongo[s.db_name][PACKAGES]
        try:
            await asyncio.sleep(3)
            rss = {"idle": {n: rss_kb(p) for n, p in s.processes.items()}}
            t0 = time.monotonic()
            for b in range(total // BATCH):
                await _release_batch(client, f"m{b}_")
                released = (b + 1) * BATCH
                if released in (total // 2, total):

                    async def all_done(n: int = released) -> bool:
                        return await packages.count_documents({"deploy_status": 2}) >= n

                    await until(all_done, timeout=1800, interval=1, what="released")
                    await asyncio.sleep(2)
                    rss[str(released)] = {n: rss_kb(p) for n, p in s.processes.items()}
                    print(
                        f"[memory] {released} released after {time.monotonic() - t0:.0f} s: "
                        f"{rss[str(released)]} kB",
                        flush=True,
                    )
        finally:
            await client.close()
            await mongo.close()
    half, full = rss[str(total // 2)], rss[str(total)]
    results = []
    for service in half:
        growth = (full[service] - half[service]) / half[service]
        results.append(
            report(
                Result(
                    "memory",
                    f"{service} RSS growth {total // 2} -> {total} packages",
                    "kB",
                    float(half[service]),
                    float(full[service]),
                    full[service] / half[service],
                    "< 10 % growth",
                    growth < 0.10,
                    {"idle_kB": rss["idle"][service], "growth": round(growth, 4)},
                )
            )
        )
    save("memory", results, {"rss_kB": rss, "packages": total})
    return results
