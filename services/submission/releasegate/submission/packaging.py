"""Tasks going into packages and coming back: reserve (all or none), release an
abandoned reservation, package rejected/revoked, package finished."""

from __future__ import annotations

import asyncio
from typing import Any

from releasegate.shared.bus.base import Message
from releasegate.shared.concurrently import all_of
from releasegate.shared.contracts.packages import PackageFinished, PackageReturned, TaskOutcome
from releasegate.shared.contracts.tasks import PackagedTask, ReleaseTasks, ReserveTasks
from releasegate.shared.errors import NOT_FOUND, TASK_IN_PACKAGE, ReleasegateError
from releasegate.shared.readmodels.codes import SUCCESSFUL, UPDATE_DELETE
from releasegate.shared.readmodels.pending_items import (
    STATE_PACKAGED,
    STATE_PENDING,
    STATE_RELEASED,
    STATE_SUPERSEDED,
)
from releasegate.submission import domain
from releasegate.submission.deps import Deps
from releasegate.submission.repository import snapshot

RELEASED_TOGETHER = 16  # tasks of a finished package written at once


async def reserve_tasks(msg: Message[ReserveTasks], deps: Deps) -> dict[str, Any]:
    """All the tasks go into the package, or none does (the error names the culprits)."""
    p, env = msg.payload, msg.envelope
    ids = list(dict.fromkeys(p.pending_item_ids))
    found = await deps.store.tasks_by_id(ids)
    keys = [d["item_key"] for d in found.values()]
    async with deps.items_locked(keys):
        found = await deps.store.tasks_by_id(ids)  # again, under the locks
        _check_reservable(ids, found, p.package_id, env.project_id, env.workspace_id)
        now = deps.clock.now_ms()
        for task_id in ids:
            doc = found[task_id]
            if doc.get("package_id") != p.package_id:  # else a replay: packaged already
                await deps.store.update_task(
                    task_id,
                    {"state": STATE_PACKAGED, "package_id": p.package_id, "updated_at": now},
                    [],
                    history={"action": "packaged", "package_id": p.package_id, "at": now},
                )
            # A replay too: the attempt that packaged the task may have failed here.
            await leave_open_slot(doc["item_key"], task_id, deps)
    tasks = [await _packaged(found[i], deps) for i in ids]
    return {"tasks": [t.model_dump(mode="json") for t in tasks]}


async def leave_open_slot(key: str, task_id: str, deps: Deps) -> None:
    """The task left its item's open slot (packaged, revoked); saved only if that
    changes the item, so a replay may call it again."""
    item = await deps.store.get_item(key)
    if item is None:
        return
    left = domain.task_left(item, task_id)
    if left != item:
        await deps.store.save_item(left)


def _check_reservable(
    ids: list[str],
    found: dict[str, dict[str, Any]],
    package_id: str,
    project: str,
    workspace: str,
) -> None:
    missing = [
        i
        for i in ids
        if i not in found
        or found[i]["project_id"] != project
        or found[i]["workspace_id"] != workspace
    ]
    if missing:
        raise ReleasegateError(NOT_FOUND, f"Pending items do not exist: {', '.join(missing)}.")
    busy = [
        f"{i} (in package {found[i]['package_id']})"
        for i in ids
        if found[i].get("package_id") not in (None, package_id)
    ]
    if busy:
        raise ReleasegateError(
            TASK_IN_PACKAGE, f"Pending items are already packaged: {', '.join(busy)}."
        )
    closed = [i for i in ids if found[i]["state"] not in (STATE_PENDING, STATE_PACKAGED)]
    if closed:
        raise ReleasegateError(
            NOT_FOUND, f"Pending items are no longer pending: {', '.join(closed)}."
        )


async def _packaged(doc: dict[str, Any], deps: Deps) -> PackagedTask:
    version = await deps.store.get_version(doc["item_key"], doc["pending_version"])
    return PackagedTask(
        **snapshot(doc).model_dump(),
        script_id=doc.get("script_id", ""),
        deployed_version=doc.get("deployed_version"),
        content=version.get("content") if version else None,
    )


async def release_tasks(msg: Message[ReleaseTasks], deps: Deps) -> None:
    docs = await deps.store.tasks_of_package(msg.payload.package_id)
    await _return_tasks(docs, msg.payload.package_id, "reservation released", deps)


async def package_returned(msg: Message[PackageReturned], deps: Deps) -> None:
    p = msg.payload
    docs = await deps.store.tasks_of_package(p.package_id)
    await _return_tasks(
        docs,
        p.package_id,
        f"package {'rejected' if p.status == 6 else 'revoked'}"
        f" by {p.by}" + (f": {p.reason}" if p.reason else ""),
        deps,
    )


async def _return_tasks(docs: list[dict[str, Any]], package_id: str, why: str, deps: Deps) -> None:
    async with deps.items_locked(d["item_key"] for d in docs):
        now = deps.clock.now_ms()
        for doc in await deps.store.tasks_of_package(package_id):
            if doc["state"] != STATE_PACKAGED:
                continue
            item = await deps.store.get_item(doc["item_key"])
            if item is None:
                continue
            outcome = domain.task_returns(item, doc["_id"])
            history = {"action": "returned", "package_id": package_id, "at": now, "reason": why}
            if isinstance(outcome, domain.Overtaken):
                await deps.store.update_task(
                    doc["_id"],
                    {
                        "state": STATE_SUPERSEDED,
                        "package_id": None,
                        "superseded_by": outcome.by_task_id,
                        "updated_at": now,
                    },
                    [],
                    history=history,
                )
            else:
                # The item first, then the task: the task's state is what a redelivery
                # finds it by, so a crash in between leaves it packaged, and the
                # replay finds the slot already its own and writes both again.
                await deps.store.save_item(
                    domain.reopened(item, doc["_id"], doc["pending_version"])
                )
                await deps.store.update_task(
                    doc["_id"],
                    {"state": STATE_PENDING, "package_id": None, "updated_at": now},
                    [],
                    history=history,
                )


async def package_finished(msg: Message[PackageFinished], deps: Deps) -> None:
    """Deployed tasks leave the list and their version is production's; failed ones
    are pending again, so they can go into a new package."""
    p = msg.payload
    outcomes = {t.pending_item_id: t for t in p.tasks}
    docs = await deps.store.tasks_of_package(p.package_id)
    failed: list[tuple[dict[str, Any], TaskOutcome]] = []
    deployed: list[tuple[dict[str, Any], TaskOutcome]] = []
    for doc in docs:
        outcome = outcomes.get(doc["_id"])
        if outcome is None or doc["state"] != STATE_PACKAGED:
            continue
        (deployed if outcome.deploy_status == SUCCESSFUL else failed).append((doc, outcome))
    async with deps.items_locked(d["item_key"] for d in docs):
        now = deps.clock.now_ms()
        # Each task and its item are written apart from the others: together, a few
        # at a time, not one round trip after another (a 100-task package's end
        # was 200 of them in a row, most of a second after the release was visible).
        gate = asyncio.Semaphore(RELEASED_TOGETHER)

        async def release(doc: dict[str, Any], outcome: TaskOutcome) -> None:
            async with gate:
                await _released(doc, outcome, p.package_id, now, deps)

        await all_of(*(release(doc, outcome) for doc, outcome in deployed))
    if failed:
        await _return_tasks([doc for doc, _ in failed], p.package_id, "release failed", deps)


async def _released(
    doc: dict[str, Any], outcome: TaskOutcome, package_id: str, now: int, deps: Deps
) -> None:
    """The item first, then the task: the task's state is what a redelivery skips
    by, so a crash in between leaves it packaged, and the item's write (the same
    fields again) is redone."""
    deleted = outcome.update_type == UPDATE_DELETE
    item = await deps.store.set_item(
        doc["item_key"], domain.released_fields(outcome.version, deleted)
    )
    if item is not None:
        await _refresh_open_task(item, deps)
    await deps.store.update_task(
        doc["_id"],
        {"state": STATE_RELEASED, "deployed_version": outcome.version, "updated_at": now},
        [],
        history={"action": "released", "package_id": package_id, "at": now},
    )


async def _refresh_open_task(item: domain.Item, deps: Deps) -> None:
    """The open task now diffs against a new production version. ``item`` is as just
    saved, under its lock: no need to read it back."""
    if item.open_task_id is None:
        return
    await deps.store.tasks.update_one(
        {"_id": item.open_task_id},
        {
            "$set": {
                "deployed_version": item.deployed_version,
                "update_type": _open_update_type(
                    item, await deps.store.get_task(item.open_task_id)
                ),
            }
        },
    )


def _open_update_type(item: domain.Item, task: dict[str, Any] | None) -> int:
    if task is not None and task["update_type"] == UPDATE_DELETE:
        return UPDATE_DELETE
    return domain.update_type_for(item, deleted=False)
