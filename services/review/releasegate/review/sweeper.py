"""What the review service finishes by itself: creations abandoned half way,
decisions a crash left unapplied, releases that stopped making progress."""

from __future__ import annotations

import logging
from typing import Any

from releasegate.review.deps import Deps
from releasegate.review.progress import record_outcomes
from releasegate.review.release import apply_release
from releasegate.review.unpack import apply_return
from releasegate.shared.bus.base import Message
from releasegate.shared.bus.topology import SUBMISSION_INBOX
from releasegate.shared.contracts.service import Tick
from releasegate.shared.contracts.tasks import RELEASE_TASKS, ReleaseTasks
from releasegate.shared.readmodels.codes import FAILED, RELEASING, START_NOT_STARTED
from releasegate.shared.readmodels.packages import CREATING, final_outcomes, subtask_outcome

log = logging.getLogger("releasegate.review.sweeper")

DECISION_GRACE_MS = 10_000


async def sweep(deps: Deps) -> None:
    now = deps.clock.now_ms()
    await _abandoned_creations(deps, now)
    await _unapplied_decisions(deps, now)
    await _stuck_releases(deps, now)


async def _abandoned_creations(deps: Deps, now: int) -> None:
    cutoff = now - int(deps.creating_timeout_s * 1000)
    for package in await deps.store.packages.find(
        {"state": CREATING, "created_at": {"$lte": cutoff}}, limit=100
    ):
        # Whatever got reserved goes back to pending, then the draft disappears.
        await deps.bus.send(
            SUBMISSION_INBOX.name,
            RELEASE_TASKS.envelope(
                ReleaseTasks(package_id=package["_id"]),
                project_id=package["project_id"],
                workspace_id=package["workspace_id"],
            ),
        )
        await deps.store.items.delete_many({"package_id": package["_id"]})
        await deps.store.packages.delete_one({"_id": package["_id"], "state": CREATING})
        log.warning("abandoned package creation undone", extra={"package_id": package["_id"]})


async def _unapplied_decisions(deps: Deps, now: int) -> None:
    for decision in await deps.store.unapplied_decisions(now - DECISION_GRACE_MS):
        package_id = decision["_id"]
        async with deps.locks.hold(package_id):
            package = await deps.store.get_package(package_id)
            if package is None:
                continue
            if decision["decision"] == "release":
                await apply_release(package, decision, deps)
            else:
                await apply_return(package, decision, deps)
        await deps.relay.drain(package_id)
        log.warning("unapplied decision applied", extra={"package_id": package_id})


async def _stuck_releases(deps: Deps, now: int) -> None:
    cutoff = now - int(deps.stuck_after_s * 1000)
    for package in await deps.store.packages.find(
        {"deploy_status": RELEASING, "last_progress_at": {"$lte": cutoff}}, limit=100
    ):
        finished = package.get("finished") or {}
        unfinished = [i for i in package_tasks(package) if i["pending_item_id"] not in finished]
        # The outcome of a task is decided by its first insert, the deployer's or this
        # one: a work item still queued finds "stopped" recorded and leaves production
        # alone, and a worker that finished meanwhile keeps its outcome.
        reason = f"no progress for {deps.stuck_after_s:g}s; the release was stopped"
        await deps.store.subtasks.insert_many(
            [_stopped(package, task, reason, now) for task in unfinished],
            ignore_duplicates=True,
        )
        subtasks = await final_outcomes(deps.store.subtasks, package["_id"])
        outcomes = {
            task["pending_item_id"]: _outcome(subtasks[task["pending_item_id"]], now)
            for task in unfinished
            if task["pending_item_id"] in subtasks
        }
        log.warning(
            "stuck release finished", extra={"package_id": package["_id"], "tasks": len(outcomes)}
        )
        await record_outcomes(package["_id"], outcomes, deps)
        await deps.relay.drain(package["_id"])


def package_tasks(package: dict[str, Any]) -> list[dict[str, Any]]:
    """The package's tasks (id and name); packages stored before they listed their
    tasks kept only their ids."""
    listed = package.get("task_list")
    if listed:
        return list(listed)
    return [{"pending_item_id": i, "item_name": ""} for i in package["item_ids"]]


def _stopped(
    package: dict[str, Any], task: dict[str, Any], reason: str, now: int
) -> dict[str, Any]:
    """The deployer's outcome record, saying the task was stopped."""
    return subtask_outcome(
        package_id=package["_id"],
        pending_item_id=task["pending_item_id"],
        asy_task_id=package.get("asy_task_id"),
        item_name=task["item_name"],
        deploy_status=FAILED,
        start_job_status=START_NOT_STARTED,
        reason=reason,
        rollback=False,
        previous_version=None,
        started_at=now,
        finished_at=now,
        worker="review sweep",
    )


def _outcome(sub: dict[str, Any], now: int) -> dict[str, Any]:
    return {
        "deploy_status": sub["deploy_status"],
        "start_job_status": sub.get("start_job_status", START_NOT_STARTED),
        "reason": sub.get("reason", ""),
        "rollback": sub.get("rollback", False),
        "updated_at": sub.get("finished_at", now),
    }


async def tick(msg: Message[Tick], deps: Deps) -> None:
    await deps.relay.sweep()
    await sweep(deps)
