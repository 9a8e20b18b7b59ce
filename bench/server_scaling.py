"""Informational: how the MongoDB-wire server's single-document operations by ``_id``
cost as a collection grows (raw PyMongo, no releasegate code). FerretDB 1.24's SQLite
backend creates the ``_id`` index on ``_ferretdb_sjson->"_id"`` but queries with
``_ferretdb_sjson->'$._id'``, which SQLite cannot match to it, so every ``_id`` lookup
scans the table; any other filter is scanned and decoded in Go. This is the floor
under every other benchmark here."""

from __future__ import annotations

import time
from typing import Any

from pymongo import AsyncMongoClient

from bench.common import Result, name, report, save, size
from tests.infra.servers import Servers

DOC = {"state": "pending", "payload": "x" * 400, "n": 0}


async def run(servers: Servers) -> list[Result]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(servers.mongodb_url)
    db = name()
    coll = client[db]["docs"]
    steps = [500, 1000, 2000, 4000] + ([8000, 16000] if size(1, 0) else [])
    table: dict[str, dict[str, float]] = {}
    try:
        have = 0
        for n in steps:
            await coll.insert_many([{"_id": f"d{i}", **DOC} for i in range(have, n)])
            have = n
            t0 = time.perf_counter()
            for i in range(0, n, n // 50):
                await coll.update_one({"_id": f"d{i}"}, {"$set": {"n": i}})
            update_ms = (time.perf_counter() - t0) * 1000 / 50
            t0 = time.perf_counter()
            for i in range(0, n, n // 50):
                await coll.find_one({"_id": f"d{i}"})
            find_ms = (time.perf_counter() - t0) * 1000 / 50
            t0 = time.perf_counter()
            for i in range(0, n, n // 20):
                await coll.find_one({"n": i, "state": "pending"})
            scan_ms = (time.perf_counter() - t0) * 1000 / 20
            table[str(n)] = {
                "update_by_id_ms": round(update_ms, 2),
                "find_by_id_ms": round(find_ms, 2),
                "find_by_field_ms": round(scan_ms, 2),
            }
            print(f"[server_scaling] {n} docs: {table[str(n)]}", flush=True)
    finally:
        await client.drop_database(db)
        await client.close()
    first, last = table[str(steps[0])], table[str(steps[-1])]
    result = report(
        Result(
            "server_scaling",
            f"update by _id at {steps[-1]} vs {steps[0]} docs (informational)",
            "ms",
            first["update_by_id_ms"],
            last["update_by_id_ms"],
            last["update_by_id_ms"] / first["update_by_id_ms"],
            "~1x if _id lookups were indexed",
            last["update_by_id_ms"] < 2 * first["update_by_id_ms"],
            {"by_size": table},
        )
    )
    save("server_scaling", [result])
    return [result]
