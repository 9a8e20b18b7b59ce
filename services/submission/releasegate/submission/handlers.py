"""The submission service's routing table: every message type it handles -> handler."""

from __future__ import annotations

from collections.abc import Mapping

from releasegate.shared.bus.base import Handler, Message, Route, bind
from releasegate.shared.contracts.packages import PACKAGE_FINISHED, PACKAGE_RETURNED
from releasegate.shared.contracts.service import SERVICE_TICK, Tick
from releasegate.shared.contracts.tasks import DIFF_TASK, RELEASE_TASKS, RESERVE_TASKS, REVOKE_TASKS
from releasegate.shared.contracts.upstream import JOB_CREATED, JOBS_IMPORTED, VERSION_SUBMITTED
from releasegate.submission.deps import Deps
from releasegate.submission.diff import diff_task
from releasegate.submission.packaging import (
    package_finished,
    package_returned,
    release_tasks,
    reserve_tasks,
)
from releasegate.submission.revoke import revoke_tasks
from releasegate.submission.versions import create_job, import_jobs, submit_version


async def tick(msg: Message[Tick], deps: Deps) -> None:
    await deps.tasks_relay.sweep()


ROUTES: Mapping[str, Route[Deps]] = {
    # upstream events
    VERSION_SUBMITTED.type: submit_version,
    JOBS_IMPORTED.type: import_jobs,
    JOB_CREATED.type: create_job,
    # commands (request/reply)
    RESERVE_TASKS.type: reserve_tasks,
    RELEASE_TASKS.type: release_tasks,
    REVOKE_TASKS.type: revoke_tasks,
    DIFF_TASK.type: diff_task,
    # events of the review service
    PACKAGE_RETURNED.type: package_returned,
    PACKAGE_FINISHED.type: package_finished,
    # housekeeping
    SERVICE_TICK.type: tick,
}


def handler_table(deps: Deps) -> dict[str, Handler]:
    return bind(ROUTES, deps)
