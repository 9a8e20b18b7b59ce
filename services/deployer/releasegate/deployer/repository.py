"""Per-task deploy outcomes and progress (read by the gateway and the review service).

A work item may be delivered twice and run on two workers at once (at-least-once
delivery). FerretDB updates a document by read-modify-replace, so two workers must
never update the same document: the outcome is *inserted* once (the first insert
wins, and is what every delivery announces), and progress lives in a separate
document whose last writer may win harmlessly.
"""

from __future__ import annotations

from typing import Any

from releasegate.deployer.contents import PackageContents
from releasegate.shared.readmodels.packages import (
    PACKAGE_ITEMS,
    PROGRESS,
    PROGRESS_INDEXES,
    SUBTASK_INDEXES,
    SUBTASKS,
)
from releasegate.shared.store.base import Collection, Database
from releasegate.shared.store.batched import BatchedInserts
from releasegate.shared.store.lookups import BatchedLookups


class DeployerStore:
    def __init__(self, db: Database) -> None:
        self.subtasks: Collection = db.collection(SUBTASKS)
        self.progress: Collection = db.collection(PROGRESS)
        # Tasks in flight look up and insert their outcomes together.
        self._outcomes = BatchedInserts(self.subtasks)
        self._outcome_lookups = BatchedLookups(self.subtasks, "package_id", {"outbox": 0})
        self._contents = PackageContents(db.collection(PACKAGE_ITEMS))  # the review's

    async def ensure_indexes(self) -> None:
        await self.subtasks.ensure_indexes(SUBTASK_INDEXES)
        await self.progress.ensure_indexes(PROGRESS_INDEXES)

    async def outcome(self, subtask_id: str, package_id: str) -> dict[str, Any] | None:
        return await self._outcome_lookups.get(subtask_id, package_id)

    async def record_progress(self, subtask_id: str, fields: dict[str, Any]) -> None:
        await self.progress.update_one({"_id": subtask_id}, {"$set": fields}, upsert=True)

    async def record_outcome(self, subtask_id: str, doc: dict[str, Any]) -> bool:
        """Insert the task's one outcome; False if another worker's came first."""
        return await self._outcomes.insert({"_id": subtask_id, **doc})

    async def content(self, package_id: str, pending_item_id: str) -> Any:
        return await self._contents.content(package_id, pending_item_id)
