"""Every rejection path of the workflow through the gateway, in memory (the same
scenarios run on the real processes in tests/e2e/test_rejection_paths.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.flows import Flow
from tests.scenarios import SCENARIOS, Users, deploy_body_rules
from tests.unit.conftest import Api


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
async def test_rejection_scenario(
    api: Api, scenario: Callable[[Flow, Users], Awaitable[None]]
) -> None:
    flow = Flow(api.http, api.tokens, "demo")
    s = api.system.gateway.context.settings
    users = Users(
        api.system.gateway.context.identity,
        flow,
        "demo",
        "default",
        s.token_secret,
        s.token_issuer,
        s.token_audience,
    )
    await scenario(flow, users)


async def test_deploy_bodies(api: Api) -> None:
    await deploy_body_rules(Flow(api.http, api.tokens, "demo"))
