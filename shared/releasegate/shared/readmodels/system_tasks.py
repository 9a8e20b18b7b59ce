"""The asynchronous system task a caller polls (``GET /v1/{project}/system-tasks/{id}``),
rendered from its release package.

The review service renders it after every change of the package and stores the JSON
in a small document of its own (``review_system_tasks``), so a poll reads five fields
instead of the whole package: on FerretDB the cost of a read follows the number of
values in the document, and a 10-task package holds about 130. The package stays
the truth: the view is written after the package, and a package without a view
(released before views existed) is rendered from the package at poll time."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from releasegate.shared.readmodels.codes import (
    FAILED,
    RELEASING,
    START_FAILED,
    SUCCESSFUL,
    TO_BE_REVIEWED,
)
from releasegate.shared.readmodels.packages import READY
from releasegate.shared.store.base import Database

SYSTEM_TASKS = "review_system_tasks"  # by _id, the asy_task_id: no other index

SystemStatus = Literal["WAITING_APPROVAL", "RUNNING", "SUCCESSFUL", "FAILED"]


class SubtaskView(BaseModel):
    id: str
    name: str
    lastUpdate: int
    status: SystemStatus
    taskId: str


class SystemTaskView(BaseModel):
    id: str
    name: str
    startTime: int | None
    endTime: int | None
    lastUpdate: int
    status: SystemStatus
    projectId: str
    subtasks: list[SubtaskView]


def _subtask_status(package: dict[str, Any], sub: dict[str, Any] | None) -> SystemStatus:
    if sub is not None and sub.get("start_job_status") == START_FAILED:
        return "FAILED"  # deployed, but its job did not start: it fails its package too
    if sub is not None and sub["deploy_status"] == SUCCESSFUL:
        return "SUCCESSFUL"
    if sub is not None and sub["deploy_status"] == FAILED:
        return "FAILED"
    if package["deploy_status"] == TO_BE_REVIEWED:
        return "WAITING_APPROVAL"
    if package["deploy_status"] == RELEASING:
        return "RUNNING"
    # Ended without its outcome: stopped by the stuck-release sweep before a worker
    # reported, or returned (revoked, rejected) while it waited for approval.
    return "FAILED"


def _package_status(package: dict[str, Any]) -> SystemStatus:
    status = package["deploy_status"]
    if status == SUCCESSFUL:
        return "SUCCESSFUL"
    if status == RELEASING:
        return "RUNNING"
    if status == TO_BE_REVIEWED:
        return "WAITING_APPROVAL"
    return "FAILED"


def render(package: dict[str, Any], tasks: list[dict[str, Any]]) -> SystemTaskView:
    """The poll's answer for ``package``, whose tasks (id and name, in order) are
    ``tasks``."""
    asy_task_id = package["asy_task_id"]
    outcomes = package.get("finished") or {}
    # A package returned (rejected, revoked) before it ran ends when it was returned.
    ended_at = package.get("finished_at") or package.get("returned_at")
    base = ended_at or package.get("last_progress_at") or package["apply_timestamp"]
    views = []
    for position, task in enumerate(tasks):
        sub = outcomes.get(task["pending_item_id"])
        views.append(
            SubtaskView(
                id=f"{asy_task_id}-{position + 1}",
                name=task["item_name"],
                lastUpdate=(sub or {}).get("updated_at", base),
                status=_subtask_status(package, sub),
                taskId=task["pending_item_id"],
            )
        )
    return SystemTaskView(
        id=asy_task_id,
        name=f"Release package {package['package_name']}",
        startTime=package.get("deploy_timestamp"),
        endTime=ended_at,
        lastUpdate=max([base, *(v.lastUpdate for v in views)]),
        status=_package_status(package),
        projectId=package["project_id"],
        subtasks=views,
    )


def rank(package: dict[str, Any]) -> int:
    """How far the package's release has gone; it only grows (waiting for approval,
    then releasing with more and more outcomes, then ended), so a view never replaces
    a newer one."""
    status = package["deploy_status"]
    if status == TO_BE_REVIEWED:
        return 1
    if status == RELEASING:
        return 2 + len(package.get("finished") or {})
    return 3 + int(package["task_count"])


def view_document(package: dict[str, Any]) -> dict[str, Any] | None:
    """The stored view of ``package``; None until it has been deployed."""
    asy_task_id = package.get("asy_task_id")
    tasks = package.get("task_list")
    if asy_task_id is None or tasks is None or package.get("state") != READY:
        return None
    return {
        "_id": asy_task_id,
        "project_id": package["project_id"],
        "workspace_id": package["workspace_id"],
        "package_id": package["_id"],
        "rank": rank(package),
        "body": render(package, tasks).model_dump_json(),
    }


async def stored_view(
    db: Database, project_id: str, workspace_id: str, asy_task_id: str
) -> str | None:
    """The poll's JSON answer as the review service stored it, if it did."""
    doc = await db.collection(SYSTEM_TASKS).find_one(
        {"_id": asy_task_id, "project_id": project_id, "workspace_id": workspace_id},
        projection={"body": 1},
    )
    return None if doc is None else str(doc["body"])
