"""Approve vs revoke of the same package, raced 200 times: exactly one wins each
time, and the package ends as the winner says."""

from __future__ import annotations

import asyncio

import httpx

from releasegate.shared.store.mongo import MongoDatabase
from tests.chaos.conftest import figure
from tests.chaos.support import packages_of, pending_ids, publish_versions
from tests.e2e.conftest import seed_users
from tests.flows import Flow
from tests.helpers import eventually
from tests.infra.processes import Stack

RACES = 200


async def test_approve_vs_revoke_raced_200_times(stack: Stack) -> None:
    db = MongoDatabase(stack.servers.mongodb_url, stack.db_name)
    try:
        tokens = await seed_users(stack)
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=60, limits=limits) as http:
            flow = Flow(http, tokens, "p1", timeout=60)
            await publish_versions(stack.servers.amqp_url, stack.namespace, "race_", RACES)
            ids = await pending_ids(db, "race_", RACES)
            gate = asyncio.Semaphore(8)

            async def one(i: int, item: str) -> str:
                async with gate:
                    [package] = await packages_of(flow, [item], tag=f"race{i}_")
                    return package

            packages = list(await asyncio.gather(*(one(i, x) for i, x in enumerate(ids))))
            released, revoked = [], []
            for start in range(0, RACES, 25):
                batch = packages[start : start + 25]
                results = await asyncio.gather(
                    *(
                        asyncio.gather(flow.deploy([p]), flow.unpack([p], user="admin"))
                        for p in batch
                    )
                )
                for package, (approve, revoke) in zip(batch, results, strict=True):
                    wins = (approve.status_code == 200, revoke.status_code == 200)
                    assert sum(wins) == 1, (package, approve.text, revoke.text)
                    (released if wins[0] else revoked).append(package)

            async def settled() -> bool:
                for package in released + revoked:
                    r = await flow.details(package)
                    status = r.json()["release_package"]["deploy_status"]
                    if status != (2 if package in released else 6):
                        return False
                return True

            await eventually(settled, timeout=90, interval=0.5, what="every package settled")
        figure(
            "approve vs revoke races",
            RACES,
            len(released),
            0,
            0,
            revoked=len(revoked),
            double_wins=0,
        )
    finally:
        await db.close()
