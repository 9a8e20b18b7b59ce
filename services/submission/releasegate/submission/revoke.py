"""Revoking tasks that should not be released."""

from __future__ import annotations

from typing import Any

from releasegate.shared.bus.base import Message
from releasegate.shared.contracts.tasks import TASK_REVOKED, RevokeTasks, TaskRevoked
from releasegate.shared.errors import FORBIDDEN, NOT_FOUND, TASK_IN_PACKAGE, ReleasegateError
from releasegate.shared.ids import stable_id
from releasegate.shared.readmodels.pending_items import STATE_PENDING, STATE_REVOKED
from releasegate.shared.store.outbox import Outgoing
from releasegate.submission import domain
from releasegate.submission.deps import Deps
from releasegate.submission.repository import snapshot


async def revoke_tasks(msg: Message[RevokeTasks], deps: Deps) -> dict[str, Any]:
    """All named tasks are revoked, or none is (the error says why)."""
    p, env = msg.payload, msg.envelope
    ids = list(dict.fromkeys(p.pending_item_ids))
    found = await deps.store.tasks_by_id(ids)
    async with deps.items_locked(d["item_key"] for d in found.values()):
        found = await deps.store.tasks_by_id(ids)
        _check_revocable(ids, found, p, env.project_id, env.workspace_id)
        now = deps.clock.now_ms()
        for task_id in ids:
            doc = found[task_id]
            event = TASK_REVOKED.envelope(
                TaskRevoked(
                    task=snapshot(doc), revoked_by=p.actor.user_id, revoked_at=now, reason=p.reason
                ),
                project_id=env.project_id,
                workspace_id=env.workspace_id,
                parent=env,
                message_id=stable_id("task.revoked", task_id),
            )
            await deps.store.update_task(
                task_id,
                {
                    "state": STATE_REVOKED,
                    "revoked_by": p.actor.user_id,
                    "revoked_at": now,
                    "updated_at": now,
                },
                [Outgoing(event)],
                history={
                    "action": "revoked",
                    "by": p.actor.user_id,
                    "by_name": p.actor.user_name,
                    "at": now,
                    "reason": p.reason,
                },
            )
            item = await deps.store.get_item(doc["item_key"])
            if item is not None:
                await deps.store.save_item(domain.task_left(item, task_id))
    for task_id in ids:
        await deps.tasks_relay.drain(task_id)
    return {"revoked": ids}


def _check_revocable(
    ids: list[str],
    found: dict[str, dict[str, Any]],
    p: RevokeTasks,
    project: str,
    workspace: str,
) -> None:
    for task_id in ids:
        doc = found.get(task_id)
        if doc is None or doc["project_id"] != project or doc["workspace_id"] != workspace:
            raise ReleasegateError(NOT_FOUND, f"Pending item {task_id} does not exist.")
        if doc.get("package_id"):
            raise ReleasegateError(
                TASK_IN_PACKAGE,
                f"Pending item {task_id} is in release package {doc['package_id']}; "
                f"revoke that package first.",
            )
        if doc["state"] != STATE_PENDING:
            raise ReleasegateError(NOT_FOUND, f"Pending item {task_id} is no longer pending.")
        reviewer = p.actor.holds("deployer", "admin")
        if not domain.may_revoke(doc["submit_user_id"], p.actor.user_id, reviewer):
            raise ReleasegateError(
                FORBIDDEN, f"Only the submitter, a deployer or an admin may revoke {task_id}."
            )
