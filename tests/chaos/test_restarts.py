"""Restart RabbitMQ, then the MongoDB-wire server, while a release runs: the services
reconnect (and retry) by themselves, the release completes, nothing is lost or
duplicated, and request/reply through the gateway works again afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from releasegate.shared.store.mongo import MongoDatabase
from tests.chaos.conftest import figure
from tests.chaos.support import (
    deploy,
    deployed_count,
    exactly_once,
    packages_of,
    pending_ids,
    publish_versions,
    successful,
)
from tests.e2e.conftest import seed_users
from tests.flows import Flow
from tests.helpers import eventually
from tests.infra.processes import Stack
from tests.infra.servers import Servers

TASKS = 100


async def _release_across(
    servers: Servers, namespace: str, db_name: str, restart: Callable[[], None], what: str
) -> None:
    stack = Stack(
        servers,
        namespace,
        db_name,
        deployers=2,
        extra_env={
            "RELEASEGATE_TARGET_LATENCY_MS": "20",
            "RELEASEGATE_PREFETCH": "4",
            # An outage is retried at the longest delay: keep it short here.
            "RELEASEGATE_RETRY_DELAYS_MS": "[100, 300, 1000]",
        },
    )
    stack.start()
    db = MongoDatabase(servers.mongodb_url, db_name)
    try:
        tokens = await seed_users(stack)
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as http:
            flow = Flow(http, tokens, "p1", timeout=120)
            await publish_versions(servers.amqp_url, namespace, "rs_", TASKS + 1)
            ids = await pending_ids(db, "rs_", TASKS + 1)
            packages = await packages_of(flow, ids[:TASKS])
            asy = await deploy(flow, packages)

            async def started() -> bool:
                return await deployed_count(db, packages) >= 20

            await eventually(started, timeout=60, interval=0.05, what="release under way")
            await asyncio.to_thread(restart)
            await successful(flow, asy, timeout=150)

            # Every process is ready again, and request/reply (the gateway's reply
            # queue, the review's call to submission) works after the restart.
            async def all_ready() -> bool:
                return all(p.ready() for p in stack.processes.values())

            await eventually(all_ready, timeout=60, interval=0.2, what="services ready")
            after = await flow.create_package([ids[TASKS]], name="after")
            assert after.status_code == 200, after.text
        tally = await exactly_once(db, packages, TASKS)
        assert (tally.lost, tally.duplicated) == (0, 0), tally
        figure(what, 1, len(packages), tally.lost, tally.duplicated, tasks=TASKS)
    finally:
        await db.close()
        codes = stack.stop()
        assert set(codes.values()) == {0}, codes


async def test_rabbitmq_restart_during_a_release(
    local_servers: Servers, namespace: str, db_name: str
) -> None:
    assert local_servers.restart_broker is not None
    await _release_across(
        local_servers, namespace, db_name, local_servers.restart_broker, "RabbitMQ restart"
    )


async def test_database_restart_during_a_release(
    local_servers: Servers, namespace: str, db_name: str
) -> None:
    assert local_servers.restart_database is not None
    await _release_across(
        local_servers, namespace, db_name, local_servers.restart_database, "FerretDB restart"
    )
