"""Concurrent changes of one production item on the real server (FerretDB updates by
read-modify-replace, so conditional updates of one document can both match): two
deployer replicas, each on its own connection, release v2 and v3 of an item at once,
both packaged while v1 was live. Every change is applied, in turn, and the history is
one chain of versions ending at production's."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from releasegate.deployer.targets.catalog import CatalogTarget
from releasegate.shared.clock import SystemClock
from releasegate.shared.readmodels.production import CATALOG, HISTORY
from releasegate.shared.store.mongo import MongoDatabase
from tests.helpers import RecordingBus
from tests.infra.servers import Servers
from tests.unit.deployer_fakes import work_item

pytestmark = pytest.mark.integration
RACES = 40


def change(item: int, version: int, seen: int | None, **fields: Any) -> Any:
    return work_item(
        item_key=f"demo/default/job/i{item}",
        item_name=f"i{item}",
        version=version,
        package_id=f"p{item}-{version}-{fields.pop('tag', '')}",
        pending_item_id=f"t{item}-{version}",
        production_version=seen,
        production_version_known=seen is not None or fields.pop("known", False),
        **fields,
    )


async def test_concurrent_changes_of_one_item_form_one_chain(
    servers: Servers, db_name: str
) -> None:
    clients = [MongoDatabase(servers.mongodb_url, db_name) for _ in range(3)]
    replicas = [CatalogTarget(c, RecordingBus(), SystemClock()) for c in clients]  # type: ignore[arg-type]
    try:
        await replicas[0].ensure_indexes()
        for i in range(RACES):
            await replicas[0].deploy(change(i, 1, None, known=True), {"v": 1})
        racing = [
            (change(i, 2, 1), change(i, 3, 1), change(i, 4, None, tag="unknown"))
            for i in range(RACES)
        ]
        await asyncio.gather(
            *(
                replicas[n].deploy(task, {"v": task.version})
                for tasks in racing
                for n, task in enumerate(tasks)
            )
        )
        for i in range(RACES):
            key = f"demo/default/job/i{i}"
            entries = await clients[0].collection(HISTORY).find({"item_key": key})
            live = await clients[0].collection(CATALOG).find_one({"_id": key})
            assert live is not None
            order: list[int | None] = [None]
            while len(order) <= len(entries):
                nxt = [e for e in entries if e["previous_version"] == order[-1]]
                assert len(nxt) == 1, (i, order, entries)
                order.append(nxt[0]["version"])
            assert sorted(v for v in order if v is not None) == [1, 2, 3, 4], (i, order)
            assert live["version"] == order[-1] and live["content"] == {"v": order[-1]}
    finally:
        for c in clients:
            await c.close()
