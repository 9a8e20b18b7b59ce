"""The deployer's routing table: every message type it handles -> handler."""

from __future__ import annotations

from collections.abc import Mapping

from releasegate.deployer.deps import Deps
from releasegate.deployer.work import deploy_task
from releasegate.shared.bus.base import Handler, Route, bind
from releasegate.shared.contracts.deploy import DEPLOY_TASK

ROUTES: Mapping[str, Route[Deps]] = {
    DEPLOY_TASK.type: deploy_task,
}


def handler_table(deps: Deps) -> dict[str, Handler]:
    return bind(ROUTES, deps)
