"""Revoking tasks that should not be released."""

from __future__ import annotations

from typing import Any

from releasegate.shared.bus.base import Message
from releasegate.shared.contracts import Envelope
from releasegate.shared.contracts.tasks import TASK_REVOKED, RevokeTasks, TaskRevoked
from releasegate.shared.errors import FORBIDDEN, NOT_FOUND, TASK_IN_PACKAGE, ReleasegateError
from releasegate.shared.ids import stable_id
from releasegate.shared.readmodels.pending_items import STATE_PENDING, STATE_REVOKED
from releasegate.shared.store.outbox import Outgoing
from releasegate.submission import domain
from releasegate.submission.deps import Deps
from releasegate.submission.packaging import leave_open_slot
from releasegate.submission.repository import snapshot


async def revoke_tasks(msg: Message[RevokeTasks], deps: Deps) -> dict[str, Any]:
    """All named tasks are revoked, or none is (the error says why)."""
    p, env = msg.payload, msg.envelope
    ids = list(dict.fromkeys(p.pending_item_ids))
    found = await deps.store.tasks_by_id(ids)
    async with deps.items_locked(d["item_key"] for d in found.values()):
        found = await deps.store.tasks_by_id(ids)
        _check_revocable(ids, found, p, env)
        now = deps.clock.now_ms()
        for task_id in ids:
            doc = found[task_id]
            if not _revoked_by(doc, env):
                await _revoke(doc, p, env, now, deps)
            # A replay too: the attempt that revoked the task may have failed here.
            await leave_open_slot(doc["item_key"], task_id, deps)
    for task_id in ids:
        await deps.tasks_relay.drain(task_id)
    return {"revoked": ids}


async def _revoke(doc: dict[str, Any], p: RevokeTasks, env: Envelope, now: int, deps: Deps) -> None:
    """The task revoked, with its announcement in its outbox."""
    task_id = doc["_id"]
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
            # The request that revoked it: its redelivery is a replay, not a refusal.
            "revoked_by_message": env.message_id,
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


def _revoked_by(doc: dict[str, Any], env: Envelope) -> bool:
    """Revoked already, by this very request (an earlier delivery of it)."""
    return doc["state"] == STATE_REVOKED and doc.get("revoked_by_message") == env.message_id


def _check_revocable(
    ids: list[str],
    found: dict[str, dict[str, Any]],
    p: RevokeTasks,
    env: Envelope,
) -> None:
    for task_id in ids:
        doc = found.get(task_id)
        if (
            doc is None
            or doc["project_id"] != env.project_id
            or doc["workspace_id"] != env.workspace_id
        ):
            raise ReleasegateError(NOT_FOUND, f"Pending item {task_id} does not exist.")
        if doc.get("package_id"):
            raise ReleasegateError(
                TASK_IN_PACKAGE,
                f"Pending item {task_id} is in release package {doc['package_id']}; "
                f"revoke that package first.",
            )
        if doc["state"] != STATE_PENDING and not _revoked_by(doc, env):
            raise ReleasegateError(NOT_FOUND, f"Pending item {task_id} is no longer pending.")
        reviewer = p.actor.holds("deployer", "admin")
        if not domain.may_revoke(doc["submit_user_id"], p.actor.user_id, reviewer):
            raise ReleasegateError(
                FORBIDDEN, f"Only the submitter, a deployer or an admin may revoke {task_id}."
            )
