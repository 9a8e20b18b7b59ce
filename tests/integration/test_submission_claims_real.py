"""Item claims on the real MongoDB-wire server: older items are claimed at the first
start, a burst of new items is claimed together, and an item seen before is read and
its task superseded (the unit tests count the reads)."""

from __future__ import annotations

import asyncio

from releasegate.shared.readmodels.pending_items import TASKS
from releasegate.shared.store.mongo import MongoDatabase
from releasegate.submission.claims import BACKFILLED, CLAIMS, Claim
from releasegate.submission.repository import ITEMS
from releasegate.submission.versions import submit_version
from tests.helpers import RecordingBus
from tests.infra.servers import Servers
from tests.unit.submission_fakes import claims_ready, delivery, deps_of


async def test_claims_on_the_real_server(servers: Servers, db_name: str) -> None:
    db = MongoDatabase(servers.mongodb_url, db_name)
    bus = RecordingBus()
    try:
        await submit_version(delivery(1, "orders"), deps_of(db, bus))
        [old] = await db.collection(ITEMS).find({})
        await db.collection(CLAIMS).delete_many({})  # as stored before claims existed

        deps = deps_of(db, bus)
        await claims_ready(deps)
        assert await deps.claims.claim_if_unseen(old["_id"]) is Claim.UNKNOWN
        await asyncio.gather(
            submit_version(delivery(2, "orders"), deps),
            *(submit_version(delivery(1, f"new{i}"), deps) for i in range(40)),
        )

        tasks = {t["item_key"]: t for t in await db.collection(TASKS).find({})}
        assert len(tasks) == 41 and tasks[old["_id"]]["pending_version"] == 2
        items = [i["_id"] for i in await db.collection(ITEMS).find({})]
        claims = [c async for c in db.collection(CLAIMS).ids()]
        assert sorted(claims) == sorted([BACKFILLED, *items]) and len(items) == 41
        assert len(bus.published) == 42  # "orders" created and superseded, 40 created
    finally:
        await db.client.drop_database(db_name)
        await db.close()
