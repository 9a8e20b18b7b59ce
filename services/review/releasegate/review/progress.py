"""Deploy progress: each task's outcome from the deployers, and the package's end."""

from __future__ import annotations

from typing import Any

from releasegate.review import domain
from releasegate.review.deps import Deps
from releasegate.shared.bus.base import Message
from releasegate.shared.contracts.deploy import SubtaskFinished
from releasegate.shared.contracts.envelope import Envelope
from releasegate.shared.contracts.packages import PACKAGE_FINISHED, PackageFinished, TaskOutcome
from releasegate.shared.ids import stable_id
from releasegate.shared.readmodels.codes import RELEASING, SUCCESSFUL
from releasegate.shared.readmodels.packages import package_items
from releasegate.shared.store.outbox import Outgoing


async def subtask_finished(msg: Message[SubtaskFinished], deps: Deps) -> None:
    p = msg.payload
    outcome = {
        "deploy_status": p.deploy_status,
        "start_job_status": p.start_job_status,
        "reason": p.reason,
        "rollback": p.rollback,
    }
    stored = await record_outcomes(
        p.package_id, {p.pending_item_id: outcome}, deps, parent=msg.envelope
    )
    await deps.relay.drain(p.package_id, stored=stored)


async def record_outcomes(
    package_id: str, outcomes: dict[str, dict[str, Any]], deps: Deps, parent: Envelope | None = None
) -> list[Outgoing] | None:
    """Record task outcomes once each (duplicates are ignored) and finish the package
    when the last one is in. The messages stored, or None if there was nothing new (a
    redelivery: the previous attempt's outbox may still hold its messages)."""
    async with deps.locks.hold(package_id):
        package = await deps.store.get_package(package_id)
        if package is None or package["deploy_status"] != RELEASING:
            return None  # late or duplicate report for a finished package
        finished = dict(package.get("finished") or {})
        new = {k: v for k, v in outcomes.items() if k not in finished}
        if not new:
            return None
        now = deps.clock.now_ms()
        finished.update(new)
        sets: dict[str, Any] = {f"finished.{k}": v for k, v in new.items()}
        sets["last_progress_at"] = now
        for item_id, outcome in new.items():
            action = "task_deployed" if outcome["deploy_status"] == SUCCESSFUL else "task_failed"
            await deps.store.record(
                package,
                action,
                now,
                key=item_id,
                reason=outcome["reason"],
                detail={"pending_item_id": item_id, **outcome},
            )
        result = domain.release_result(package["task_count"], finished)
        events: list[Outgoing] = []
        if result is not None:
            sets.update(deploy_status=result, finished_at=now)
            events.append(await _finished_event(package, result, finished, deps, parent))
            await deps.store.record(package, "finished", now, detail={"deploy_status": result})
        await deps.store.update_package(package_id, {"$set": sets}, events)
        return events


async def _finished_event(
    package: dict[str, Any],
    result: int,
    finished: dict[str, dict[str, Any]],
    deps: Deps,
    parent: Envelope | None,
) -> Outgoing:
    items = await package_items(deps.store.items, package["_id"])
    tasks = [
        TaskOutcome(
            pending_item_id=i["pending_item_id"],
            item_key=i["item_key"],
            version=i["pending_version"],
            update_type=i["update_type"],
            deploy_status=finished[i["pending_item_id"]]["deploy_status"],
            reason=finished[i["pending_item_id"]].get("reason", ""),
        )
        for i in items
    ]
    return Outgoing(
        PACKAGE_FINISHED.envelope(
            PackageFinished(
                package_id=package["_id"],
                asy_task_id=package["asy_task_id"],
                deploy_status=result,
                tasks=tasks,
                released_by=package.get("deploy_user_id", ""),
            ),
            project_id=package["project_id"],
            workspace_id=package["workspace_id"],
            parent=parent,
            message_id=stable_id("package.finished", package["_id"]),
        )
    )
