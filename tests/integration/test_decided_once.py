"""Decisions that must be made once are made once on the real server (MongoDB or
FerretDB): the unique-insert primitive under concurrent writers on separate
connections, raced many times."""

from __future__ import annotations

import asyncio

from releasegate.review.repository import ReviewStore
from releasegate.shared.store.mongo import MongoDatabase
from tests.infra.servers import Servers


async def test_release_vs_revoke_raced_200_times_one_winner_each(
    servers: Servers, db_name: str
) -> None:
    clients = [MongoDatabase(servers.mongodb_url, db_name) for _ in range(3)]
    stores = [ReviewStore(c) for c in clients]
    try:
        await stores[0].ensure_indexes()
        for race in range(200):
            package_id = f"pkg-{race}"
            outcomes = await asyncio.gather(
                stores[0].decide(package_id, {"decision": "release", "by": "u-a", "at": race}),
                stores[1].decide(package_id, {"decision": "revoke", "by": "u-b", "at": race}),
                stores[2].decide(package_id, {"decision": "release", "by": "u-c", "at": race}),
            )
            assert sum(outcomes) == 1, (race, outcomes)
            winner = ["release", "revoke", "release"][outcomes.index(True)]
            decision = await stores[0].get_decision(package_id)
            assert decision is not None and decision["decision"] == winner
        assert await stores[0].decisions.count({}) == 200
    finally:
        for c in clients:
            await c.close()


async def test_approvals_count_each_user_once(servers: Servers, db_name: str) -> None:
    clients = [MongoDatabase(servers.mongodb_url, db_name) for _ in range(2)]
    stores = [ReviewStore(c) for c in clients]
    try:
        await asyncio.gather(*(stores[i % 2].approve("pkg", f"u{i % 3}", i) for i in range(12)))
        assert await stores[0].approvals.count({"package_id": "pkg"}) == 3
    finally:
        for c in clients:
            await c.close()
