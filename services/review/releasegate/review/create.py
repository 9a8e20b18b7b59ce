"""Creating a release package: validate, reserve the tasks (all or none) with the
submission service, snapshot them, announce."""

from __future__ import annotations

import logging
from typing import Any

from releasegate.review import domain
from releasegate.review.deps import Deps
from releasegate.shared.bus.base import Message
from releasegate.shared.bus.topology import SUBMISSION_INBOX
from releasegate.shared.contracts.envelope import Envelope
from releasegate.shared.contracts.packages import (
    PACKAGE_CREATED,
    CreatePackage,
    PackageCreated,
    PackageTask,
)
from releasegate.shared.contracts.tasks import RESERVE_TASKS, PackagedTask, ReserveTasks
from releasegate.shared.errors import UNAVAILABLE, ReleasegateError, lookup
from releasegate.shared.ids import stable_id
from releasegate.shared.readmodels.codes import TO_BE_REVIEWED
from releasegate.shared.readmodels.packages import CREATING, READY, package_item_id
from releasegate.shared.store.base import DuplicateKey
from releasegate.shared.store.outbox import Outgoing

log = logging.getLogger("releasegate.review")


async def create_package(msg: Message[CreatePackage], deps: Deps) -> dict[str, Any]:
    p, env = msg.payload, msg.envelope
    applicant_id = domain.applicant_of(p.apply_user_id, p.actor)
    users = await deps.identity.get_users([applicant_id, *p.approver_ids])
    reviewers = await deps.store.reviewer_ids(env.project_id, env.workspace_id)
    domain.check_new_package(
        applicant_id,
        p.actor.user_id,
        p.pending_item_ids,
        p.approver_ids,
        users,
        env.project_id,
        env.workspace_id,
        reviewers,
    )
    now = deps.clock.now_ms()
    draft = {
        "project_id": env.project_id,
        "workspace_id": env.workspace_id,
        "state": CREATING,
        "package_name": p.package_name,
        "apply_user_id": applicant_id,
        "apply_user_name": users[applicant_id].name,
        "apply_timestamp": now,
        "created_at": now,
        "created_by": p.actor.user_id,
        "deploy_status": TO_BE_REVIEWED,
        "delete_flag": 0,
        "approvers": [{"user_id": a, "user_name": users[a].name} for a in p.approver_ids],
        "task_count": len(p.pending_item_ids),
        "finished": {},
        "outbox": {},
        "outbox_n": 0,
        "message_id": env.message_id,
    }
    # A redelivery (after a failure past the insert) gets the package it stored
    # before and does what is left: it reserves again (a replay to the submission
    # service) while the package is still a draft.
    package = await _insert(draft, deps)
    package_id = package["_id"]
    ready: dict[str, Any] = {}
    stored: list[Outgoing] | None = None  # None: ready already; re-announce what is left
    if package["state"] == CREATING:
        tasks = await _reserve(package_id, p.pending_item_ids, msg, deps)
        await deps.store.insert_items([_item(package_id, i, t) for i, t in enumerate(tasks)])
        stored = [Outgoing(_created(package_id, applicant_id, tasks, msg))]
        # The package lists its tasks: the poll's view is rendered from the package
        # alone (readmodels.system_tasks).
        task_list = [
            {"pending_item_id": t.pending_item_id, "item_name": t.item_name} for t in tasks
        ]
        ready = {"state": READY, "task_list": task_list}
    async with deps.locks.hold(package_id):
        if stored is not None:
            await deps.store.update_package(package, ready, stored)
        await deps.store.record(
            package,
            "created",
            package["created_at"],
            actor_id=p.actor.user_id,
            actor_name=p.actor.user_name,
            detail={"tasks": p.pending_item_ids, "approvers": p.approver_ids},
        )
    await deps.relay.drain(package_id, stored=stored)
    return {"package_name": p.package_name, "release_package_id": package_id}


def _created(
    package_id: str, applicant_id: str, tasks: list[PackagedTask], msg: Message[CreatePackage]
) -> Envelope:
    p, env = msg.payload, msg.envelope
    return PACKAGE_CREATED.envelope(
        PackageCreated(
            package_id=package_id,
            package_name=p.package_name,
            apply_user_id=applicant_id,
            tasks=[
                PackageTask(
                    pending_item_id=t.pending_item_id,
                    item_key=t.item_key,
                    pending_version=t.pending_version,
                )
                for t in tasks
            ],
        ),
        project_id=env.project_id,
        workspace_id=env.workspace_id,
        parent=env,
        message_id=stable_id("package.created", package_id),
    )


async def _insert(draft: dict[str, Any], deps: Deps) -> dict[str, Any]:
    """Store ``draft`` under an id derived from its command's message id; the package
    stored, which is the one stored before if the command was delivered before."""
    message_id = draft["message_id"]
    for attempt in range(5):
        package_id = stable_id("package", message_id, str(attempt))
        try:
            await deps.store.packages.insert_one({"_id": package_id, **draft})
            return {"_id": package_id, **draft}
        except DuplicateKey:
            stored = await deps.store.get_package(package_id)
            if stored is not None and stored.get("message_id") == message_id:
                return stored
            # Another package has this id (1 in 2**63): take this message's next id, as
            # a redelivery of it does.
    raise RuntimeError("could not allocate a package id")


async def _reserve(
    package_id: str, ids: list[str], msg: Message[CreatePackage], deps: Deps
) -> list[PackagedTask]:
    env = msg.envelope
    request = RESERVE_TASKS.envelope(
        ReserveTasks(package_id=package_id, pending_item_ids=ids),
        project_id=env.project_id,
        workspace_id=env.workspace_id,
        parent=env,
    )
    try:
        reply = await deps.bus.request(SUBMISSION_INBOX.name, request, deps.rpc_timeout_s)
    except TimeoutError as exc:
        # Left in state "creating": the sweep returns whatever got reserved.
        raise ReleasegateError(UNAVAILABLE, "The submission service did not answer.") from exc
    if not reply.ok:
        # Left in state "creating" too, not released here: a failure may come after
        # part of the tasks were reserved, and a duplicate delivery of the request may
        # still reserve after this reply. The sweep releases the draft's tasks once no
        # reservation can be under way any more (creating_timeout_s), then removes it.
        raise ReleasegateError(lookup(reply.error_code or ""), reply.error_msg)
    return [PackagedTask.model_validate(t) for t in (reply.result or {}).get("tasks", [])]


def _item(package_id: str, position: int, t: PackagedTask) -> dict[str, Any]:
    return {
        "_id": package_item_id(package_id, t.pending_item_id),
        "package_id": package_id,
        "position": position,
        "pending_item_id": t.pending_item_id,
        "item_key": t.item_key,
        "task_id": t.task_id,
        "script_id": t.script_id,
        "item_name": t.item_name,
        "task_type": t.task_type,
        "update_type": t.update_type,
        "pending_version": t.pending_version,
        "deployed_version": t.deployed_version,
        "submit_timestamp": t.submit_timestamp,
        "submit_user_id": t.submit_user_id,
        "submit_user_name": t.submit_user_name,
        "content": t.content,
    }
