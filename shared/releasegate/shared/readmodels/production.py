"""The production catalog written by the deployer's catalog target: what is live
now, and the history of every change (who, when, which package, rollbacks), so an
operator can see what was live when."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from releasegate.shared.readmodels.filters import fuzzy
from releasegate.shared.readmodels.paging import find_page
from releasegate.shared.store.base import Database, IndexSpec

CATALOG = "production_catalog"
HISTORY = "production_history"

CATALOG_INDEXES = [
    IndexSpec((("project_id", 1), ("workspace_id", 1), ("item_name", 1)), name="by_workspace_name")
]
HISTORY_INDEXES = [
    IndexSpec((("item_key", 1), ("at", -1)), name="by_item_time"),
    IndexSpec((("project_id", 1), ("workspace_id", 1), ("at", -1)), name="by_workspace_time"),
    # The catalog target looks up the changes of a package's tasks in flight together.
    IndexSpec((("package_id", 1),), name="by_package"),
]


class ProductionItem(BaseModel):
    item_name: str
    task_type: int
    version: int
    deleted: bool
    package_id: str
    released_by: str
    released_at: int


class ProductionChange(BaseModel):
    item_name: str
    version: int
    previous_version: int | None
    action: str
    rollback: bool
    package_id: str
    released_by: str
    released_by_name: str
    at: int


def _scope(project_id: str, workspace_id: str, item_name: str | None) -> dict[str, Any]:
    filt: dict[str, Any] = {"project_id": project_id, "workspace_id": workspace_id}
    if item_name:
        filt["item_name"] = fuzzy(item_name)
    return filt


async def production_items(
    db: Database, project_id: str, workspace_id: str, item_name: str | None, limit: int, offset: int
) -> tuple[list[ProductionItem], int]:
    filt = _scope(project_id, workspace_id, item_name)
    docs, total = await find_page(
        db.collection(CATALOG),
        filt,
        sort=[("item_name", 1)],
        skip=offset,
        limit=limit,
        projection={"content": 0},
    )
    return [ProductionItem.model_validate(d) for d in docs], total


async def production_history(
    db: Database, project_id: str, workspace_id: str, item_name: str | None, limit: int, offset: int
) -> tuple[list[ProductionChange], int]:
    filt = {**_scope(project_id, workspace_id, item_name), "applied": True}
    docs, total = await find_page(
        db.collection(HISTORY), filt, sort=[("at", -1), ("_id", 1)], skip=offset, limit=limit
    )
    return [ProductionChange.model_validate(d) for d in docs], total
