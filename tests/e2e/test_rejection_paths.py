"""Every rejection path of the workflow through the gateway, on the four real
processes (RabbitMQ and the MongoDB-wire server), one stack for all scenarios."""

from __future__ import annotations

import httpx

from releasegate.shared.identity import IdentityStore
from releasegate.shared.store.mongo import MongoDatabase
from tests.flows import Flow
from tests.infra.processes import Stack
from tests.scenarios import SCENARIOS, Users, deploy_body_rules


async def test_every_rejection_path_on_real_servers(stack: Stack, tokens: dict[str, str]) -> None:
    db = MongoDatabase(stack.servers.mongodb_url, stack.db_name)
    try:
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as http:
            flow = Flow(http, dict(tokens), "p1", timeout=30)
            users = Users(IdentityStore(db), flow, "p1", "ws1", stack.token_secret)
            await deploy_body_rules(flow)
            for scenario in SCENARIOS:
                await scenario(flow, users)
    finally:
        await db.close()
