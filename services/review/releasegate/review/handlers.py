"""The review service's routing table: every message type it handles -> handler."""

from __future__ import annotations

from collections.abc import Mapping

from releasegate.review.create import create_package
from releasegate.review.deps import Deps
from releasegate.review.progress import subtask_finished
from releasegate.review.release import deploy_packages
from releasegate.review.reviewers import manage_reviewer, set_policy
from releasegate.review.sweeper import tick
from releasegate.review.unpack import unpack_packages
from releasegate.shared.bus.base import Handler, Route, bind
from releasegate.shared.contracts.deploy import SUBTASK_FINISHED
from releasegate.shared.contracts.packages import (
    CREATE_PACKAGE,
    DEPLOY_PACKAGES,
    MANAGE_REVIEWER,
    SET_POLICY,
    UNPACK_PACKAGES,
)
from releasegate.shared.contracts.service import SERVICE_TICK

ROUTES: Mapping[str, Route[Deps]] = {
    # commands (request/reply from the gateway)
    CREATE_PACKAGE.type: create_package,
    DEPLOY_PACKAGES.type: deploy_packages,
    UNPACK_PACKAGES.type: unpack_packages,
    MANAGE_REVIEWER.type: manage_reviewer,
    SET_POLICY.type: set_policy,
    # events of the deployer
    SUBTASK_FINISHED.type: subtask_finished,
    # housekeeping
    SERVICE_TICK.type: tick,
}


def handler_table(deps: Deps) -> dict[str, Handler]:
    return bind(ROUTES, deps)
