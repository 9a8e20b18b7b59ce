from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from releasegate.shared.identity import IdentityStore, Project, Role, User
from releasegate.shared.store.mongo import MongoDatabase
from releasegate.shared.tokens import mint_token
from tests.infra.processes import Stack

pytestmark = pytest.mark.e2e


async def seed_users(stack: Stack) -> dict[str, str]:
    """Users of project ``p1`` (workspace ``ws1``), written where the gateway reads them."""
    db = MongoDatabase(stack.servers.mongodb_url, stack.db_name)
    identity = IdentityStore(db)
    try:
        await identity.put_project(
            Project(project_id="p1", default_workspace="ws1", workspaces=["ws1"])
        )
        out: dict[str, str] = {}
        for login, role in (
            ("dev", Role.DEVELOPER),
            ("deployer", Role.DEPLOYER),
            ("admin", Role.ADMIN),
        ):
            await identity.put_user(
                User(
                    user_id=f"u-{login}",
                    name=login,
                    project_id="p1",
                    workspace_roles={"ws1": [role]},
                )
            )
            out[login] = mint_token(
                f"u-{login}",
                secret=stack.token_secret,
                issuer="releasegate",
                audience="releasegate",
            )
        return out
    finally:
        await db.close()


@pytest.fixture
async def tokens(stack: Stack) -> AsyncIterator[dict[str, Any]]:
    yield await seed_users(stack)
