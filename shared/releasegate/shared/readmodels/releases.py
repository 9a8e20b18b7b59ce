"""Views composed from the review service's packages and the deployer's progress:
package details, the async system task a caller polls, the audit trail, and the
comparison of the versions in two packages."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from pydantic import BaseModel

from releasegate.shared import diffs
from releasegate.shared.readmodels.packages import (
    AUDIT,
    PACKAGE_ITEMS,
    PACKAGES,
    READY,
    PackageView,
    TaskDetailView,
    find_package,
    package_items,
    package_view,
    subtask_states,
    task_detail_view,
)
from releasegate.shared.readmodels.system_tasks import SystemTaskView, render, stored_view
from releasegate.shared.store.base import Database

# What a poll without a stored view reads of the package: only these cross the wire.
POLLED_FIELDS = dict.fromkeys(
    (
        "package_name",
        "deploy_status",
        "apply_timestamp",
        "deploy_timestamp",
        "finished_at",
        "last_progress_at",
        "task_list",
        "finished",
        "asy_task_id",
    ),
    1,
)


class PackageDetails(BaseModel):
    release_package: PackageView
    task_details: list[TaskDetailView]


async def package_details(
    db: Database, project_id: str, workspace_id: str, package_id: str
) -> PackageDetails | None:
    package = await find_package(db.collection(PACKAGES), project_id, workspace_id, package_id)
    if package is None:
        return None
    items, subtasks = await _items_and_states(db, package)
    return PackageDetails(
        release_package=package_view(package),
        task_details=[
            task_detail_view(i, package, subtasks.get(i["pending_item_id"])) for i in items
        ],
    )


async def _items_and_states(
    db: Database, package: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """A package's items and its tasks' states, read together."""
    both: tuple[list[dict[str, Any]], dict[str, dict[str, Any]]] = await asyncio.gather(
        package_items(db.collection(PACKAGE_ITEMS), package["_id"]),
        subtask_states(db, package),
    )
    return both


async def system_task(
    db: Database, project_id: str, workspace_id: str, asy_task_id: str
) -> SystemTaskView | None:
    """The poll's answer rendered from the package (see ``system_tasks``)."""
    package = await db.collection(PACKAGES).find_one(
        {
            "asy_task_id": asy_task_id,
            "project_id": project_id,
            "workspace_id": workspace_id,
            "state": READY,
        },
        projection=POLLED_FIELDS,
    )
    if package is None:
        return None
    # Packages stored before they listed their tasks read the items.
    tasks = package.get("task_list") or [
        {"pending_item_id": i["pending_item_id"], "item_name": i["item_name"]}
        for i in await package_items(db.collection(PACKAGE_ITEMS), package["_id"])
    ]
    return render({**package, "project_id": project_id}, tasks)


async def system_task_json(
    db: Database, project_id: str, workspace_id: str, asy_task_id: str
) -> str | None:
    """The poll's JSON answer: the view the review service stored, else rendered from
    the package (one released before views were stored)."""
    stored = await stored_view(db, project_id, workspace_id, asy_task_id)
    if stored is not None:
        return stored
    view = await system_task(db, project_id, workspace_id, asy_task_id)
    return None if view is None else view.model_dump_json()


class AuditEntry(BaseModel):
    action: str
    at: int
    actor_id: str
    actor_name: str
    reason: str
    detail: dict[str, Any]


async def audit_trail(
    db: Database, project_id: str, workspace_id: str, package_id: str
) -> list[AuditEntry] | None:
    if await find_package(db.collection(PACKAGES), project_id, workspace_id, package_id) is None:
        return None
    docs = await db.collection(AUDIT).find({"package_id": package_id}, sort=[("at", 1), ("seq", 1)])
    return [
        AuditEntry(
            action=d["action"],
            at=d["at"],
            actor_id=d["actor_id"],
            actor_name=d["actor_name"],
            reason=d["reason"],
            detail=d["detail"],
        )
        for d in docs
    ]


Change = Literal["added", "removed", "changed", "unchanged"]


class ItemChange(BaseModel):
    item_key: str
    item_name: str
    task_type: int
    change: Change
    base_version: int | None
    target_version: int | None
    diff: str


class PackageComparison(BaseModel):
    base_package_id: str
    target_package_id: str
    items: list[ItemChange]


async def compare_packages(
    db: Database, project_id: str, workspace_id: str, base_id: str, target_id: str
) -> PackageComparison | None:
    """Item by item: what the target package adds, removes or changes against base."""
    packages, items = db.collection(PACKAGES), db.collection(PACKAGE_ITEMS)
    found = await asyncio.gather(
        *(find_package(packages, project_id, workspace_id, p) for p in (base_id, target_id))
    )
    if None in found:
        return None
    base_items, target_items = await asyncio.gather(
        *(package_items(items, p, with_content=True) for p in (base_id, target_id))
    )
    base = {i["item_key"]: i for i in base_items}
    target = {i["item_key"]: i for i in target_items}
    return PackageComparison(
        base_package_id=base_id,
        target_package_id=target_id,
        items=[
            _change(base.get(key), target.get(key), key) for key in sorted(set(base) | set(target))
        ],
    )


def _change(old: dict[str, Any] | None, new: dict[str, Any] | None, key: str) -> ItemChange:
    some = new or old
    assert some is not None
    name = some["item_name"]
    old_v = old["pending_version"] if old else None
    new_v = new["pending_version"] if new else None
    diff = diffs.unified(
        old["content"] if old else None,
        new["content"] if new else None,
        f"{name} v{old_v}" if old else "/dev/null",
        f"{name} v{new_v}" if new else "/dev/null",
    )
    change: Change
    if old is None:
        change = "added"
    elif new is None:
        change = "removed"
    else:
        change = "changed" if (old_v != new_v or diff) else "unchanged"
    return ItemChange(
        item_key=key,
        item_name=name,
        task_type=some["task_type"],
        change=change,
        base_version=old_v,
        target_version=new_v,
        diff=diff,
    )
