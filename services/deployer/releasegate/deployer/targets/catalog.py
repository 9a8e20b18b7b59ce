"""The default target: a versioned production catalog in MongoDB.

``production_catalog`` holds the current production version of every item;
``production_history`` one entry per applied change (who, when, which package, the
version before, rollback or not) under the task's idempotency key, so a change is
applied once however often it is delivered; ``production_job_runs`` the job starts.
"""

from __future__ import annotations

import asyncio
from typing import Any

from releasegate.deployer.targets.base import Applied
from releasegate.shared.bus.base import Bus
from releasegate.shared.clock import Clock
from releasegate.shared.contracts.deploy import JOB_STARTED, DeployTask, JobStarted
from releasegate.shared.readmodels.codes import UPDATE_DELETE
from releasegate.shared.readmodels.production import (
    CATALOG,
    CATALOG_INDEXES,
    HISTORY,
    HISTORY_INDEXES,
)
from releasegate.shared.store.base import Database, DuplicateKey
from releasegate.shared.store.batched import BatchedInserts
from releasegate.shared.store.lookups import BatchedLookups

JOB_RUNS = "production_job_runs"


class CatalogTarget:
    name = "catalog"

    def __init__(self, db: Database, bus: Bus, clock: Clock, latency_ms: int = 0) -> None:
        self.catalog = db.collection(CATALOG)
        self.history = db.collection(HISTORY)
        self.runs = db.collection(JOB_RUNS)
        # Tasks in flight on this worker look up and insert their history entries,
        # and insert their job runs, together; the first insert of a key wins, as one
        # insert each would.
        self._history_inserts = BatchedInserts(self.history)
        self._history_lookups = BatchedLookups(self.history, "package_id")
        self._run_inserts = BatchedInserts(self.runs)
        self._bus = bus
        self._clock = clock
        self._latency = latency_ms / 1000

    async def ensure_indexes(self) -> None:
        await self.history.ensure_indexes(HISTORY_INDEXES)
        await self.catalog.ensure_indexes(CATALOG_INDEXES)

    async def deploy(self, task: DeployTask, content: Any) -> Applied:
        if self._latency:
            await asyncio.sleep(self._latency)
        key = task.idempotency_key
        if task.production_version_known:
            # The history first: a change applied already is not written again, even
            # where production has since come back to the version this task expects.
            done = await self._history_lookups.get(key, task.package_id)
            if done is None and await self._write_if_unchanged(task, content):
                previous = task.production_version
                await self._record(task, previous)
                return Applied(_rollback(task, previous), previous)
            current = None if done is not None else await self._current(task)
        else:
            done, current = await asyncio.gather(
                self._history_lookups.get(key, task.package_id), self._current(task)
            )
        if done is not None and done.get("applied", True):
            return Applied(done["rollback"], done.get("previous_version"))
        if current is not None and current.get("change") == key:
            # An earlier attempt wrote the catalog and died before the history: the
            # version it replaced is kept beside the change.
            previous = current.get("change_previous_version")
        elif done is not None:
            previous = done.get("previous_version")  # the first attempt saw the true one
        else:
            previous = current.get("version") if current and not current.get("deleted") else None
        # The catalog first, then the history entry that marks the change applied: a
        # crash in between is repaired by the redelivery above, and a concurrent
        # redelivery writes the same catalog document and loses the history insert.
        await self.catalog.update_one(
            {"_id": task.item_key}, {"$set": self._change(task, content, previous)}, upsert=True
        )
        if done is None:
            await self._record(task, previous)
        else:
            # Written unapplied by an earlier release of this code; now it is.
            await self.history.update_one({"_id": key}, {"$set": {"applied": True}})
        return Applied(_rollback(task, previous), previous)

    async def _current(self, task: DeployTask) -> dict[str, Any] | None:
        return await self.catalog.find_one({"_id": task.item_key}, projection={"content": 0})

    async def _write_if_unchanged(self, task: DeployTask, content: Any) -> bool:
        """Write the change if production is still at the version the package saw:
        one command instead of a read and a write. False if it is not (it moved, or
        an earlier attempt of this task wrote it): then nothing is written."""
        previous = task.production_version
        change = {"$set": self._change(task, content, previous)}
        if previous is not None:
            at = {"_id": task.item_key, "version": previous, "deleted": False}
            return (await self.catalog.update_one(at, change)).matched == 1
        try:  # not in production: no document, or a deleted one
            await self.catalog.update_one(
                {"_id": task.item_key, "deleted": {"$ne": False}}, change, upsert=True
            )
        except DuplicateKey:  # a document in production: the upsert collided with it
            return False
        return True

    def _change(self, task: DeployTask, content: Any, previous: int | None) -> dict[str, Any]:
        """The catalog's fields once ``task`` is applied over ``previous``."""
        return {
            **_scope(task),
            "item_name": task.item_name,
            "task_type": task.task_type,
            "version": task.version,
            "content": None if task.update_type == UPDATE_DELETE else content,
            "deleted": task.update_type == UPDATE_DELETE,
            "package_id": task.package_id,
            "released_by": task.released_by,
            "released_at": self._clock.now_ms(),
            "change": task.idempotency_key,
            "change_previous_version": previous,
        }

    async def _record(self, task: DeployTask, previous: int | None) -> None:
        """The history entry that marks the change applied."""
        await self._history_inserts.insert(
            {
                "_id": task.idempotency_key,
                **_scope(task),
                "item_key": task.item_key,
                "item_name": task.item_name,
                "version": task.version,
                "previous_version": previous,
                "action": "delete" if task.update_type == UPDATE_DELETE else "deploy",
                "rollback": _rollback(task, previous),
                "package_id": task.package_id,
                "pending_item_id": task.pending_item_id,
                "released_by": task.released_by,
                "released_by_name": task.released_by_name,
                "at": self._clock.now_ms(),
                "applied": True,
            }
        )

    async def start(self, task: DeployTask) -> None:
        run_id = f"{task.idempotency_key}:run"
        # Started before this redelivery (not inserted): announce again (same message id).
        await self._run_inserts.insert(
            {
                "_id": run_id,
                "item_key": task.item_key,
                "item_name": task.item_name,
                "version": task.version,
                "package_id": task.package_id,
                "started_at": self._clock.now_ms(),
                "state": "running",
            }
        )
        scope = _scope(task)
        await self._bus.publish(
            JOB_STARTED.envelope(
                JobStarted(
                    item_key=task.item_key,
                    item_name=task.item_name,
                    version=task.version,
                    run_id=run_id,
                    package_id=task.package_id,
                ),
                project_id=scope["project_id"],
                workspace_id=scope["workspace_id"],
                message_id=run_id,
            )
        )


def _rollback(task: DeployTask, previous: int | None) -> bool:
    return previous is not None and task.version < previous


def _scope(task: DeployTask) -> dict[str, str]:
    """Project and workspace, from the item key (``project/workspace/type/id``)."""
    project_id, workspace_id = task.item_key.split("/")[:2]
    return {"project_id": project_id, "workspace_id": workspace_id}
