"""Release tasks (the API's pending items), owned by the submission service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from releasegate.shared.readmodels.filters import fuzzy, time_window
from releasegate.shared.readmodels.paging import find_page
from releasegate.shared.store.base import Collection, IndexSpec
from releasegate.shared.store.outbox import OUTBOX_INDEX

TASKS = "submission_tasks"

# A task is listed while it waits for release: unpackaged or inside a package.
STATE_PENDING = "pending"
STATE_PACKAGED = "packaged"
STATE_RELEASED = "released"
STATE_REVOKED = "revoked"
OPEN_STATES = [STATE_PENDING, STATE_PACKAGED]

TASK_INDEXES = [
    IndexSpec(
        (("project_id", 1), ("workspace_id", 1), ("state", 1), ("submit_timestamp", -1)),
        name="list_by_time",
    ),
    IndexSpec(
        (
            ("project_id", 1),
            ("workspace_id", 1),
            ("state", 1),
            ("submit_user_name", 1),
            ("submit_timestamp", -1),
        ),
        name="list_by_submitter",
    ),
    IndexSpec(
        (
            ("project_id", 1),
            ("workspace_id", 1),
            ("state", 1),
            ("update_type", 1),
            ("task_type", 1),
            ("submit_timestamp", -1),
        ),
        name="list_by_kind",
    ),
    IndexSpec((("package_id", 1),), name="by_package"),
    OUTBOX_INDEX,
]


class PendingItemView(BaseModel):
    """One element of ``GET /pending-items`` ``data`` (types as the vendor SDK's)."""

    pending_item_id: str
    task_id: str
    item_name: str
    task_type: int
    update_type: int
    pending_version: int
    deployed_version: int
    package_flag: int
    project_id: str
    submit_timestamp: int
    submit_user_id: str
    submit_user_name: str


def pending_item_view(doc: dict[str, Any]) -> PendingItemView:
    return PendingItemView(
        pending_item_id=str(doc["_id"]),
        task_id=doc["task_id"],
        item_name=doc["item_name"],
        task_type=doc["task_type"],
        update_type=doc["update_type"],
        pending_version=doc["pending_version"],
        deployed_version=doc.get("deployed_version") or 0,
        package_flag=1 if doc.get("package_id") else 0,
        project_id=doc["project_id"],
        submit_timestamp=doc["submit_timestamp"],
        submit_user_id=doc["submit_user_id"],
        submit_user_name=doc["submit_user_name"],
    )


@dataclass(frozen=True)
class PendingItemQuery:
    submit_user_name: str | None = None
    item_name: str | None = None
    update_type: int | None = None
    task_type: int | None = None
    start_time: int | None = None
    end_time: int | None = None
    limit: int = 10
    offset: int = 0


def pending_items_filter(project_id: str, workspace_id: str, q: PendingItemQuery) -> dict[str, Any]:
    filt: dict[str, Any] = {
        "project_id": project_id,
        "workspace_id": workspace_id,
        "state": {"$in": OPEN_STATES},
    }
    if q.submit_user_name:
        filt["submit_user_name"] = q.submit_user_name
    if q.item_name:
        # Fuzzy = case-insensitive substring; the caller's text is literal, not a regex.
        filt["item_name"] = fuzzy(q.item_name)
    if q.update_type is not None:
        filt["update_type"] = q.update_type
    if q.task_type is not None:
        filt["task_type"] = q.task_type
    if (window := time_window(q.start_time, q.end_time)) is not None:
        filt["submit_timestamp"] = window
    return filt


async def list_pending_items(
    tasks: Collection, project_id: str, workspace_id: str, q: PendingItemQuery
) -> tuple[list[PendingItemView], int]:
    filt = pending_items_filter(project_id, workspace_id, q)
    docs, total = await find_page(
        tasks,
        filt,
        sort=[("submit_timestamp", -1), ("_id", -1)],
        skip=q.offset,
        limit=q.limit,
        projection={"outbox": 0},
    )
    return [pending_item_view(d) for d in docs], total


STATE_SUPERSEDED = "superseded"
