"""The deployer's routing table: every message type it handles -> handler."""

from __future__ import annotations

from collections.abc import Mapping

from releasegate.deployer.deps import Deps
from releasegate.deployer.work import deploy_task
from releasegate.shared.bus.base import Handler, Message, Route, bind
from releasegate.shared.contracts.deploy import DEPLOY_TASK
from releasegate.shared.contracts.service import SERVICE_TICK, Tick


async def tick(msg: Message[Tick], deps: Deps) -> None:
    await deps.relay.sweep()


ROUTES: Mapping[str, Route[Deps]] = {
    DEPLOY_TASK.type: deploy_task,
    SERVICE_TICK.type: tick,
}


def handler_table(deps: Deps) -> dict[str, Handler]:
    return bind(ROUTES, deps)
