"""Kill -9 a deployer several times while a 500-task release runs: every task ends
deployed exactly once in the production catalog."""

from __future__ import annotations

import httpx
import pytest

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

TASKS = 500
KILLS = 3


# 500 tasks through FerretDB take about 3 minutes on a loaded 2-core machine; bounded
# above the suite's 300 s so that a slow machine fails on the checks, not the clock.
@pytest.mark.timeout(480)
async def test_deployers_killed_repeatedly_during_a_500_task_release(
    servers: Servers, namespace: str, db_name: str
) -> None:
    stack = Stack(
        servers,
        namespace,
        db_name,
        deployers=2,
        # Every service at its default prefetch: a killed deployer takes up to 32 tasks
        # in flight with it.
        extra_env={"RELEASEGATE_TARGET_LATENCY_MS": "10"},
    )
    stack.start()
    db = MongoDatabase(servers.mongodb_url, db_name)
    try:
        tokens = await seed_users(stack)
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as http:
            flow = Flow(http, tokens, "p1", timeout=120)
            await publish_versions(servers.amqp_url, namespace, "kill_", TASKS)
            packages = await packages_of(flow, await pending_ids(db, "kill_", TASKS))
            asy = await deploy(flow, packages)
            for kill in range(KILLS):
                victim = f"deployer-{kill % 2}"
                floor = (kill + 1) * TASKS // (KILLS + 2)

                async def progressed(at_least: int = floor) -> bool:
                    return await deployed_count(db, packages) >= at_least

                await eventually(progressed, timeout=90, interval=0.05, what=f"{floor} deployed")
                stack.processes[victim].kill()  # SIGKILL with tasks in flight
                stack.processes[victim].start()  # a fresh process takes its place
            await successful(flow, asy, timeout=150)
        tally = await exactly_once(db, packages, TASKS)
        assert (tally.lost, tally.duplicated) == (0, 0), tally
        figure("kill -9 deployers", KILLS, len(packages), tally.lost, tally.duplicated, tasks=TASKS)
    finally:
        await db.close()
        stack.stop()
