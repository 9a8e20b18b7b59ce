"""Fakes for the review service's progress tests: a package releasing some tasks (in
memory, with package updates that take a round trip and can fail) and the deployers'
reports of its tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from releasegate.review.deps import Deps
from releasegate.review.repository import ReviewStore
from releasegate.shared.bus.base import Message
from releasegate.shared.clock import FakeClock
from releasegate.shared.contracts.deploy import SUBTASK_FINISHED, SubtaskFinished
from releasegate.shared.groupcommit import GroupCommit
from releasegate.shared.identity import IdentityStore
from releasegate.shared.ids import stable_id
from releasegate.shared.locks import KeyedLocks
from releasegate.shared.readmodels.codes import RELEASING, SUCCESSFUL
from releasegate.shared.readmodels.packages import PACKAGES
from releasegate.shared.store.base import StoreUnavailable, UpdateOutcome
from releasegate.shared.store.memory import MemoryCollection, MemoryDatabase
from releasegate.shared.store.outbox import OutboxRelay
from tests.helpers import RecordingBus

PACKAGE = "42"
FINISHED = stable_id("package.finished", PACKAGE)


class SlowPackages(MemoryCollection):
    """Package updates that take a round trip (they yield), counted, failing while
    ``failing`` is set."""

    def __init__(self) -> None:
        super().__init__(PACKAGES)
        self.updates = 0
        self.failing = False

    async def update_one(
        self, filter: Mapping[str, Any], update: Mapping[str, Any], **kw: Any
    ) -> UpdateOutcome:
        self.updates += 1
        await asyncio.sleep(0)  # meanwhile the other reports arrive and queue up
        if self.failing:
            raise StoreUnavailable("the database is away")
        return await super().update_one(filter, update, **kw)


async def releasing(
    tasks: list[str], linger_s: float = 0.0, db: MemoryDatabase | None = None
) -> tuple[Deps, SlowPackages, RecordingBus]:
    """The review service's dependencies, with a package releasing ``tasks`` (on
    ``db``, a fresh memory database by default)."""
    db, packages, locks, bus = db or MemoryDatabase(), SlowPackages(), KeyedLocks(), RecordingBus()
    store = ReviewStore(db)
    store.packages = packages
    deps = Deps(
        store=store,
        identity=IdentityStore(db),
        bus=bus,  # type: ignore[arg-type]
        locks=locks,
        relay=OutboxRelay(packages, bus, locks),  # type: ignore[arg-type]
        clock=FakeClock(),
        outcomes=GroupCommit(locks, linger_s=linger_s),
    )
    await packages.insert_one(
        {
            "_id": PACKAGE,
            "project_id": "demo",
            "workspace_id": "default",
            "deploy_status": RELEASING,
            "task_count": len(tasks),
            "item_ids": tasks,
            "finished": {},
            "asy_task_id": "t",
            "outbox": {},
            "outbox_n": 0,
        }
    )
    await store.insert_items(
        [
            {
                "_id": f"{PACKAGE}:{t}",
                "package_id": PACKAGE,
                "position": n,
                "pending_item_id": t,
                "item_key": f"demo/default/job/j{t}",
                "pending_version": 1,
                "update_type": 1,
            }
            for n, t in enumerate(tasks)
        ]
    )
    return deps, packages, bus


def report(task: str, status: int = SUCCESSFUL) -> Message[SubtaskFinished]:
    payload = SubtaskFinished(
        package_id=PACKAGE,
        pending_item_id=task,
        item_key=f"demo/default/job/j{task}",
        version=1,
        update_type=1,
        deploy_status=status,  # type: ignore[arg-type]
        start_job_status=0,
    )
    envelope = SUBTASK_FINISHED.envelope(
        payload,
        project_id="demo",
        workspace_id="default",
        message_id=stable_id("subtask.finished", f"{PACKAGE}:{task}"),
    )
    return Message(envelope, payload)
