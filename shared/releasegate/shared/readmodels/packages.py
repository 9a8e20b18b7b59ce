"""Release packages, owned by the review service, and the deploy progress of their
tasks, owned by the deployer: collection names, indexes, API views and queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from releasegate.shared.readmodels.codes import START_NOT_STARTED, SUCCESSFUL
from releasegate.shared.readmodels.filters import fuzzy, time_window
from releasegate.shared.readmodels.paging import find_page
from releasegate.shared.store.base import Collection, Database, IndexSpec
from releasegate.shared.store.outbox import OUTBOX_INDEX

PACKAGES = "review_packages"
PACKAGE_ITEMS = "review_package_items"
AUDIT = "review_audit"
REVIEWERS = "review_reviewers"
POLICIES = "review_policies"
# A task's outcome is inserted once (first writer wins, whatever duplicates run);
# progress while it runs is informational and may be overwritten.
SUBTASKS = "deployer_subtasks"
PROGRESS = "deployer_progress"


def subtask_id(package_id: str, pending_item_id: str) -> str:
    """The ``_id`` of a task's outcome in SUBTASKS: its one insert decides it."""
    return f"{package_id}:{pending_item_id}"


def subtask_outcome(
    *,
    package_id: str,
    pending_item_id: str,
    asy_task_id: str | None,
    item_name: str,
    deploy_status: int,
    start_job_status: int,
    reason: str,
    rollback: bool,
    previous_version: int | None,
    started_at: int,
    finished_at: int,
    worker: str,
) -> dict[str, Any]:
    """A task's outcome record, as the deployer inserts it (or the review's stuck-release
    sweep, where none came): one shape for both writers and every reader."""
    return {
        "_id": subtask_id(package_id, pending_item_id),
        "package_id": package_id,
        "pending_item_id": pending_item_id,
        "asy_task_id": asy_task_id,
        "item_name": item_name,
        "deploy_status": deploy_status,
        "start_job_status": start_job_status,
        "reason": reason,
        "rollback": rollback,
        "previous_version": previous_version,
        "started_at": started_at,
        "finished_at": finished_at,
        "updated_at": finished_at,
        "worker": worker,
    }


# A package is listed once created (not while its tasks are being reserved).
READY = "ready"
CREATING = "creating"

_SCOPE = (("project_id", 1), ("workspace_id", 1), ("state", 1))
PACKAGE_INDEXES = [
    IndexSpec((*_SCOPE, ("apply_timestamp", -1)), name="by_apply_time"),
    IndexSpec((*_SCOPE, ("deploy_timestamp", -1)), name="by_deploy_time"),
    IndexSpec((*_SCOPE, ("deploy_status", 1), ("apply_timestamp", -1)), name="by_status"),
    IndexSpec((*_SCOPE, ("apply_user_name", 1), ("apply_timestamp", -1)), name="by_applicant"),
    IndexSpec((*_SCOPE, ("deploy_user_name", 1), ("deploy_timestamp", -1)), name="by_deployer"),
    IndexSpec((*_SCOPE, ("package_name", 1)), name="by_name"),
    IndexSpec((("asy_task_id", 1),), name="by_async_task"),
    IndexSpec((("state", 1), ("created_at", 1)), name="by_state_age"),
    IndexSpec((("deploy_status", 1), ("last_progress_at", 1)), name="by_progress"),
    OUTBOX_INDEX,
]
PACKAGE_ITEM_INDEXES = [IndexSpec((("package_id", 1), ("position", 1)), name="by_package")]
AUDIT_INDEXES = [IndexSpec((("package_id", 1), ("at", 1), ("seq", 1)), name="by_package_time")]
REVIEWER_INDEXES = [IndexSpec((("project_id", 1), ("workspace_id", 1)), name="by_workspace")]
SUBTASK_INDEXES = [IndexSpec((("package_id", 1),), name="by_package")]
PROGRESS_INDEXES = [IndexSpec((("package_id", 1),), name="by_package")]

OrderColumn = Literal["apply_timestamp", "deploy_timestamp", "package_name", "deploy_status"]


class Approver(BaseModel):
    user_id: str
    user_name: str


class PackageView(BaseModel):
    """A package as ``POST /release-packages`` lists it and details show it."""

    package_id: str
    package_name: str
    apply_timestamp: int
    apply_user_id: str
    apply_user_name: str
    deploy_status: int
    deploy_timestamp: int | None
    deploy_user_id: str | None
    deploy_user_name: str | None
    package_approvers: list[Approver]
    project_id: str
    workspace_id: str
    delete_flag: int


class TaskDetailView(BaseModel):
    task_id: str
    script_id: str
    item_name: str
    pending_item_id: str
    task_type: int
    update_type: int
    pending_version: int
    deployed_version: int
    deploy_status: int
    start_job_status: int
    submit_timestamp: int
    submit_user_id: str
    submit_user_name: str


def package_view(doc: dict[str, Any]) -> PackageView:
    return PackageView(
        package_id=str(doc["_id"]),
        package_name=doc["package_name"],
        apply_timestamp=doc["apply_timestamp"],
        apply_user_id=doc["apply_user_id"],
        apply_user_name=doc["apply_user_name"],
        deploy_status=doc["deploy_status"],
        deploy_timestamp=doc.get("deploy_timestamp"),
        deploy_user_id=doc.get("deploy_user_id"),
        deploy_user_name=doc.get("deploy_user_name"),
        package_approvers=[Approver(**a) for a in doc.get("approvers", [])],
        project_id=doc["project_id"],
        workspace_id=doc["workspace_id"],
        delete_flag=doc.get("delete_flag", 0),
    )


def task_detail_view(
    item: dict[str, Any], package: dict[str, Any], subtask: dict[str, Any] | None
) -> TaskDetailView:
    status = package["deploy_status"]
    start = START_NOT_STARTED
    if subtask is not None:
        status = subtask["deploy_status"]
        start = subtask.get("start_job_status", START_NOT_STARTED)
    deployed = item.get("deployed_version") or 0
    if subtask is not None and subtask["deploy_status"] == SUCCESSFUL:
        deployed = item["pending_version"]
    return TaskDetailView(
        task_id=item["task_id"],
        script_id=item.get("script_id", ""),
        item_name=item["item_name"],
        pending_item_id=item["pending_item_id"],
        task_type=item["task_type"],
        update_type=item["update_type"],
        pending_version=item["pending_version"],
        deployed_version=deployed,
        deploy_status=status,
        start_job_status=start,
        submit_timestamp=item["submit_timestamp"],
        submit_user_id=item["submit_user_id"],
        submit_user_name=item["submit_user_name"],
    )


@dataclass(frozen=True)
class PackageQuery:
    key_word: str | None = None
    apply_user_name: str | None = None
    deploy_user_name: str | None = None
    apply_begin_time: int | None = None
    apply_end_time: int | None = None
    deploy_begin_time: int | None = None
    deploy_end_time: int | None = None
    apply_user_name_filter: tuple[str, ...] = ()
    deploy_user_name_filter: tuple[str, ...] = ()
    deploy_status_filter: tuple[int, ...] = ()
    sorted_direction: Literal["asc", "desc"] = "desc"
    order_column: OrderColumn = "apply_timestamp"
    limit: int = 10
    offset: int = 0


def packages_filter(project_id: str, workspace_id: str, q: PackageQuery) -> dict[str, Any]:
    """Text fields match fuzzily (case-insensitive substring); ``*_filter`` lists match
    exactly; all conditions must hold."""
    conditions: list[dict[str, Any]] = [
        {"project_id": project_id, "workspace_id": workspace_id, "state": READY}
    ]
    if q.key_word:
        conditions.append({"package_name": fuzzy(q.key_word)})
    if q.apply_user_name:
        conditions.append({"apply_user_name": fuzzy(q.apply_user_name)})
    if q.deploy_user_name:
        conditions.append({"deploy_user_name": fuzzy(q.deploy_user_name)})
    if q.apply_user_name_filter:
        conditions.append({"apply_user_name": {"$in": list(q.apply_user_name_filter)}})
    if q.deploy_user_name_filter:
        conditions.append({"deploy_user_name": {"$in": list(q.deploy_user_name_filter)}})
    if q.deploy_status_filter:
        conditions.append({"deploy_status": {"$in": list(q.deploy_status_filter)}})
    if (applied := time_window(q.apply_begin_time, q.apply_end_time)) is not None:
        conditions.append({"apply_timestamp": applied})
    if (deployed := time_window(q.deploy_begin_time, q.deploy_end_time)) is not None:
        conditions.append({"deploy_timestamp": deployed})
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


async def list_packages(
    packages: Collection, project_id: str, workspace_id: str, q: PackageQuery
) -> tuple[list[PackageView], int]:
    filt = packages_filter(project_id, workspace_id, q)
    direction = 1 if q.sorted_direction == "asc" else -1
    docs, total = await find_page(
        packages,
        filt,
        sort=[(q.order_column, direction), ("_id", direction)],
        skip=q.offset,
        limit=q.limit,
        projection={"outbox": 0},
    )
    return [package_view(d) for d in docs], total


async def find_package(
    packages: Collection, project_id: str, workspace_id: str, package_id: str
) -> dict[str, Any] | None:
    """A package of this workspace, or None: another workspace's package is as unknown
    as one that never existed."""
    return await packages.find_one(
        {"_id": package_id, "project_id": project_id, "workspace_id": workspace_id, "state": READY},
        projection={"outbox": 0},
    )


def package_item_id(package_id: str, pending_item_id: str) -> str:
    """The ``_id`` of one of a package's items (written by the review service, read by
    the deployers)."""
    return f"{package_id}:{pending_item_id}"


async def package_items(
    items: Collection, package_id: str, *, with_content: bool = False
) -> list[dict[str, Any]]:
    projection = None if with_content else {"content": 0}
    return await items.find(
        {"package_id": package_id}, sort=[("position", 1)], projection=projection
    )


async def final_outcomes(subtasks: Collection, package_id: str) -> dict[str, dict[str, Any]]:
    """The tasks of a package whose outcome (2 or 3) is recorded."""
    docs = await subtasks.find({"package_id": package_id}, projection={"outbox": 0})
    return {d["pending_item_id"]: d for d in docs}


async def subtask_states(db: Database, package: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each task's latest known state: the outcome the review service recorded in the
    package (where the package's own status comes from, so a task and its package
    never disagree), else the deployer's progress, else absent."""
    progress = await db.collection(PROGRESS).find({"package_id": package["_id"]})
    states = {d["pending_item_id"]: d for d in progress}
    states.update(package.get("finished") or {})
    return states
