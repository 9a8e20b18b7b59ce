"""Per-task deploy progress (read by the gateway and the review service)."""

from __future__ import annotations

from typing import Any

from releasegate.shared.readmodels.packages import PACKAGE_ITEMS, SUBTASK_INDEXES, SUBTASKS
from releasegate.shared.store.base import Collection, Database
from releasegate.shared.store.outbox import Outgoing, with_outbox


class DeployerStore:
    def __init__(self, db: Database) -> None:
        self.subtasks: Collection = db.collection(SUBTASKS)
        self.items: Collection = db.collection(PACKAGE_ITEMS)  # the review's; read only

    async def ensure_indexes(self) -> None:
        await self.subtasks.ensure_indexes(SUBTASK_INDEXES)

    async def get(self, subtask_id: str) -> dict[str, Any] | None:
        return await self.subtasks.find_one({"_id": subtask_id}, projection={"outbox": 0})

    async def save(
        self, subtask_id: str, fields: dict[str, Any], events: list[Outgoing] | None = None
    ) -> None:
        update = with_outbox(
            {"$set": fields, "$inc": {"deliveries": 1}}
            if "started_at" in fields
            else {"$set": fields},
            events or [],
        )
        await self.subtasks.update_one({"_id": subtask_id}, update, upsert=True)

    async def content(self, package_id: str, pending_item_id: str) -> Any:
        item = await self.items.find_one(
            {"_id": f"{package_id}:{pending_item_id}"}, projection={"content": 1}
        )
        return item.get("content") if item else None
