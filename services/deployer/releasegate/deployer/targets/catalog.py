"""The default target: a versioned production catalog in MongoDB.

``production_catalog`` holds the current production version of every item;
``production_history`` one entry per applied change (who, when, which package, the
version before, rollback or not) under the task's idempotency key, so a change is
applied once however often it is delivered; ``production_job_runs`` the job starts.

Each change of an item is decided once, by an insert under a unique index, never by
a conditional update: FerretDB applies an update as read-modify-replace, so two
conditional updates of one document can both match and one change is lost.
``production_transitions`` holds one *claim* per departure from a state of an item
(``v<version>`` live, or ``none``: absent or deleted), unique on ``slot``
(``<item_key>#<state>``). Only the change that inserted the claim of the current
state writes the catalog (so the catalog has one writer at a time), on condition that
production is in the state claimed; a change that finds the slot taken waits for the
winner and then applies on top of its state. A state entered again (a rollback, a
redeploy after a delete) frees its slot by *retiring* the claim that left it before
(renaming its ``slot``); the catalog names that claim under ``open.<state>``, so the
common change (a new version) needs no read to find it.

The package's view of production (``production_version``) names the state to claim
directly: when production has not moved, a change costs the claim insert, one catalog
write and the history insert, and no read.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from releasegate.deployer.targets.base import Applied, TransientTargetError
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
from releasegate.shared.store.base import Database, Doc, DuplicateKey, IndexSpec
from releasegate.shared.store.batched import BatchedInserts
from releasegate.shared.store.lookups import BatchedLookups

JOB_RUNS = "production_job_runs"
TRANSITIONS = "production_transitions"  # the deployer's own: claims of catalog changes
TRANSITION_INDEXES = [
    # One live claim per state of an item: the insert that decides a change.
    IndexSpec((("slot", 1),), unique=True, name="one_departure_per_state"),
]
ABSENT = "none"
# A change that finds its item's state claimed by another waits this long in all
# (the winner's next writes are a catalog write and a rename), then lets the worker
# retry it with backoff as a transient error.
WAITS_S = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0)
# A claim's holder writes the catalog right after claiming. One this old, on a state
# production is still in, was abandoned: its worker died and its task may never deploy
# again (stopped by the review's stuck-release sweep, or dead-lettered), so it is
# retired for the changes waiting on that state.
CLAIM_LEASE_MS = 30_000


class _Blocked(Exception):
    """The state to leave is claimed by another change, still in progress."""


class CatalogTarget:
    name = "catalog"

    def __init__(self, db: Database, bus: Bus, clock: Clock, latency_ms: int = 0) -> None:
        self.catalog = db.collection(CATALOG)
        self.history = db.collection(HISTORY)
        self.runs = db.collection(JOB_RUNS)
        self.transitions = db.collection(TRANSITIONS)
        # Tasks in flight on this worker look up and insert their history entries,
        # and insert their job runs, together; the first insert of a key wins, as one
        # insert each would.
        self._history_inserts = BatchedInserts(self.history)
        self._history_lookups = BatchedLookups(self.history, "package_id")
        self._run_inserts = BatchedInserts(self.runs)
        # Claims too: tasks in flight of different items claim in one insert; two of
        # one item in one batch are decided by the unique index as two inserts would.
        self._claims = BatchedInserts(self.transitions)
        self._bus = bus
        self._clock = clock
        self._latency = latency_ms / 1000

    async def ensure_indexes(self) -> None:
        await self.history.ensure_indexes(HISTORY_INDEXES)
        await self.catalog.ensure_indexes(CATALOG_INDEXES)
        await self.transitions.ensure_indexes(TRANSITION_INDEXES)

    async def deploy(self, task: DeployTask, content: Any) -> Applied:
        if self._latency:
            await asyncio.sleep(self._latency)
        key = task.idempotency_key
        if task.production_version_known:
            # The history first: a change applied already is not written again, even
            # where production has since come back to the version this task expects.
            done = await self._history_lookups.get(key, task.package_id)
            if done is None:
                seen = _state(task.production_version)
                try:
                    applied = await self._claim_and_write(task, content, seen, None)
                except _Blocked:
                    applied = None
                if applied is not None:
                    return applied
            applied_before = done is not None and done.get("applied", True)
            current = None if applied_before else await self._current(task)
        else:
            done, current = await asyncio.gather(
                self._history_lookups.get(key, task.package_id), self._current(task)
            )
        if done is not None and done.get("applied", True):
            return Applied(done["rollback"], done.get("previous_version"))
        for wait in (*WAITS_S, None):
            if current is not None and current.get("change") == key:
                # An earlier attempt wrote the catalog and died before the history: the
                # version it replaced is kept beside the change.
                await self._retire_reentered(task, current)
                previous = current.get("change_previous_version")
                await self._finish(task, previous, done)
                return Applied(_rollback(task, previous), previous)
            try:
                applied = await self._claim_and_write(
                    task, content, _state_of(current), current or {}, done
                )
                if applied is not None:
                    return applied
                # Production moved between the read and the claim: read it again.
            except _Blocked:
                if wait is None:
                    break
                await asyncio.sleep(wait)
            current = await self._current(task)
        raise TransientTargetError(
            f"production of {task.item_key} is being changed by another package"
        )

    async def _current(self, task: DeployTask) -> dict[str, Any] | None:
        return await self.catalog.find_one({"_id": task.item_key}, projection={"content": 0})

    async def _claim_and_write(
        self,
        task: DeployTask,
        content: Any,
        state: str,
        seen: Doc | None,
        done: Doc | None = None,
    ) -> Applied | None:
        """Leave ``state`` for ``task``'s: claim it, then write the catalog on condition
        that production is in it (``seen``: as read; ``{}``: read, no document; None:
        not read, as the package saw it). None if production is not in ``state``
        (nothing written; the claim is voided). ``_Blocked`` if another change holds
        the claim."""
        key = task.idempotency_key
        slot = _slot(task.item_key, state)
        previous = _version_of(state)
        claim_id = f"{key}@{state}:{uuid.uuid4().hex[:12]}"
        claimed = await self._claims.insert(
            {
                "_id": claim_id,
                "slot": slot,
                "item_key": task.item_key,
                "change": key,
                "package_id": task.package_id,
                "from_version": previous,
                "from_change": (seen or {}).get("change"),
                "version": task.version,
                "deleted": task.update_type == UPDATE_DELETE,
                "at": self._clock.now_ms(),
            }
        )
        if not claimed:
            holder = await self.transitions.find_one({"slot": slot})
            if holder is None or holder.get("change") != key:
                # Retired meanwhile, or another change's: wait for it, unless it was
                # abandoned on the state production is in (``seen``: as read).
                if holder is not None and seen is not None and self._expired(holder):
                    await self._retire(slot, holder["_id"])
                raise _Blocked from None
            claim_id = holder["_id"]  # ours, from an earlier attempt: complete it
        written = await self._write(task, content, state, seen, claim_id, previous)
        if written is None:
            # Production is not in the state claimed (it moved before the claim, or an
            # earlier attempt of this task moved it): free the slot, nothing written.
            await self._retire(slot, claim_id)
            return None
        await self._retire_reentered(task, written)
        await self._finish(task, previous, done)
        return Applied(_rollback(task, previous), previous)

    async def _write(
        self,
        task: DeployTask,
        content: Any,
        state: str,
        seen: Doc | None,
        claim_id: str,
        previous: int | None,
    ) -> Doc | None:
        """The catalog as written, or None if production is not in ``state``."""
        fields = self._change(task, content, previous)
        update = {"$set": {**fields, f"open.{state}": claim_id}}
        at: dict[str, Any] = {"_id": task.item_key}
        if state == ABSENT:
            if not seen:  # no document read, or none seen: create it
                doc = {"_id": task.item_key, **fields, "open": {state: claim_id}}
                try:
                    await self.catalog.insert_one(doc)
                    return doc
                except DuplicateKey:
                    if seen is not None:
                        return None  # read as absent; created since
            at["deleted"] = {"$ne": False}
        else:
            at.update(version=previous, deleted=False)
        if seen:  # the very state read, not only its version
            at["change"] = seen.get("change", {"$exists": False})
        return await self.catalog.find_one_and_update(at, update)

    def _expired(self, claim: Doc) -> bool:
        return bool(self._clock.now_ms() - int(claim.get("at", 0)) > CLAIM_LEASE_MS)

    async def _retire_reentered(self, task: DeployTask, written: Doc) -> None:
        """Production has entered ``task``'s state: free the claim that left that
        state before (if it ever was left), so that it can be left again."""
        state = _target_state(task)
        earlier = (written.get("open") or {}).get(state)
        if earlier:
            await self._retire(_slot(task.item_key, state), earlier)

    async def _retire(self, slot: str, claim_id: str) -> None:
        # The same value whoever writes it: retiring twice, or at once, is harmless.
        await self.transitions.update_one(
            {"_id": claim_id}, {"$set": {"slot": f"{slot}~{claim_id}"}}
        )

    async def _finish(self, task: DeployTask, previous: int | None, done: Doc | None) -> None:
        if done is None:
            await self._record(task, previous)
        else:
            # Written unapplied by an earlier release of this code; now it is.
            await self.history.update_one(
                {"_id": task.idempotency_key},
                {
                    "$set": {
                        "applied": True,
                        "previous_version": previous,
                        "rollback": _rollback(task, previous),
                    }
                },
            )

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


def _state(version: int | None) -> str:
    return ABSENT if version is None else f"v{version}"


def _state_of(current: Doc | None) -> str:
    """The state of production as read: a live version, or absent (deleted)."""
    if current is None or current.get("deleted", True):
        return ABSENT
    return _state(current["version"])


def _target_state(task: DeployTask) -> str:
    return ABSENT if task.update_type == UPDATE_DELETE else _state(task.version)


def _version_of(state: str) -> int | None:
    return None if state == ABSENT else int(state[1:])


def _slot(item_key: str, state: str) -> str:
    return f"{item_key}#{state}"


def _rollback(task: DeployTask, previous: int | None) -> bool:
    return previous is not None and task.version < previous


def _scope(task: DeployTask) -> dict[str, str]:
    """Project and workspace, from the item key (``project/workspace/type/id``)."""
    project_id, workspace_id = task.item_key.split("/")[:2]
    return {"project_id": project_id, "workspace_id": workspace_id}
