"""Redeliveries after a write failed part-way: each handler's replay redoes what the
failed attempt left undone, so an item keeps exactly one open task, at its newest
version, however the attempts interleave."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.shared.bus.base import Message
from releasegate.shared.contracts.common import Actor
from releasegate.shared.contracts.packages import (
    PACKAGE_FINISHED,
    PACKAGE_RETURNED,
    PackageFinished,
    PackageReturned,
    PackageTask,
    TaskOutcome,
)
from releasegate.shared.contracts.tasks import (
    RELEASE_TASKS,
    RESERVE_TASKS,
    REVOKE_TASKS,
    TASK_REVOKED,
    ReleaseTasks,
    ReserveTasks,
    RevokeTasks,
)
from releasegate.shared.errors import ReleasegateError
from releasegate.shared.readmodels.codes import FAILED
from releasegate.shared.readmodels.pending_items import OPEN_STATES, TASKS
from releasegate.shared.store.memory import MemoryDatabase
from releasegate.submission import domain
from releasegate.submission.deps import Deps
from releasegate.submission.domain import Item
from releasegate.submission.packaging import (
    package_finished,
    package_returned,
    release_tasks,
    reserve_tasks,
)
from releasegate.submission.repository import ITEMS, SubmissionStore
from releasegate.submission.revoke import revoke_tasks
from releasegate.submission.versions import submit_version
from tests.helpers import RecordingBus
from tests.unit.submission_fakes import Crash, CrashingBus, delivery, deps_of

DEV = Actor(user_id="u-dev", user_name="dev", roles=["developer"])


class FailsOnce(SubmissionStore):
    """The next item save or task update, once armed, fails: the database went away
    and the message is retried."""

    def __init__(self, db: MemoryDatabase) -> None:
        super().__init__(db)
        self.armed: str | None = None

    def _maybe_fail(self, write: str) -> None:
        if self.armed == write:
            self.armed = None
            raise ConnectionError("database away")

    async def save_item(self, item: Item) -> None:
        self._maybe_fail("save_item")
        await super().save_item(item)

    async def update_task(self, task_id: str, *args: Any, **kw: Any) -> None:
        self._maybe_fail("update_task")
        await super().update_task(task_id, *args, **kw)


def message(contract: Any, payload: Any) -> Message[Any]:
    return Message(contract.envelope(payload, project_id="p", workspace_id="w"), payload)


async def setup(bus: RecordingBus | None = None) -> tuple[MemoryDatabase, FailsOnce, Deps]:
    db = MemoryDatabase()
    store = FailsOnce(db)
    deps = deps_of(db, bus or RecordingBus(), store)
    await store.ensure_indexes()
    return db, store, deps


async def only_item(db: MemoryDatabase) -> dict[str, Any]:
    [item] = await db.collection(ITEMS).find({})
    return item


async def open_tasks(db: MemoryDatabase) -> list[dict[str, Any]]:
    return await db.collection(TASKS).find({"state": {"$in": OPEN_STATES}})


async def first_task(deps: Deps) -> dict[str, Any]:
    await submit_version(delivery(1), deps)
    [task] = await deps.store.tasks.find({})
    return task


async def assert_one_open_task_at_v2(db: MemoryDatabase, deps: Deps, left: str) -> None:
    """v2 goes into a new task; the task that left the slot is not touched."""
    await submit_version(delivery(2), deps)
    tasks = {t["_id"]: t for t in await db.collection(TASKS).find({})}
    assert tasks[left]["pending_version"] == 1
    item = await only_item(db)
    assert item["open_task_id"] != left and item["open_task_version"] == 2
    assert tasks[item["open_task_id"]]["state"] == "pending"
    assert tasks[item["open_task_id"]]["pending_version"] == 2


# -- versions ---------------------------------------------------------------


async def test_a_version_retried_after_a_newer_one_leaves_the_newer_on_the_task() -> None:
    db, _, deps = await setup(CrashingBus(fail=1))
    with pytest.raises(Crash):
        await submit_version(delivery(5), deps)  # task written, announcement failed
    await submit_version(delivery(6), deps)  # meanwhile: finds v5's task
    await submit_version(delivery(5), deps)  # v5 redelivered from the retry queue

    [task] = await db.collection(TASKS).find({})
    item = await only_item(db)
    assert (item["max_version"], item["open_task_version"]) == (6, 6)
    assert item["open_task_id"] == task["_id"] and task["pending_version"] == 6
    assert task["submit_timestamp"] == delivery(6).payload.submitted_at


async def test_a_replay_of_the_same_version_rewrites_nothing_and_announces_the_same() -> None:
    bus = CrashingBus(fail=1)
    db, _, deps = await setup(bus)
    with pytest.raises(Crash):
        await submit_version(delivery(5), deps)
    [before] = await db.collection(TASKS).find({})
    await submit_version(delivery(5), deps)
    await submit_version(delivery(6), deps)

    [task] = await db.collection(TASKS).find({})
    assert task["_id"] == before["_id"] and task["pending_version"] == 6
    assert [e.payload["task"]["pending_version"] for e in bus.envelopes] == [5, 6]
    assert [e.type for e in bus.envelopes] == ["task.created", "task.superseded"]


# -- reserve ----------------------------------------------------------------


async def test_a_replayed_reservation_frees_the_items_slot() -> None:
    db, store, deps = await setup()
    task = await first_task(deps)
    reserve = message(RESERVE_TASKS, ReserveTasks(package_id="P1", pending_item_ids=[task["_id"]]))
    store.armed = "save_item"
    with pytest.raises(ConnectionError):
        await reserve_tasks(reserve, deps)

    reply = await reserve_tasks(reserve, deps)  # redelivered

    assert [t["pending_item_id"] for t in reply["tasks"]] == [task["_id"]]
    assert (await only_item(db))["open_task_id"] is None
    await assert_one_open_task_at_v2(db, deps, left=task["_id"])


# -- revoke -----------------------------------------------------------------


async def test_a_replayed_revoke_succeeds_and_frees_the_items_slot() -> None:
    db, store, deps = await setup()
    bus: RecordingBus = deps.bus  # type: ignore[assignment]
    task = await first_task(deps)
    revoke = message(REVOKE_TASKS, RevokeTasks(pending_item_ids=[task["_id"]], actor=DEV))
    store.armed = "save_item"
    with pytest.raises(ConnectionError):
        await revoke_tasks(revoke, deps)

    assert await revoke_tasks(revoke, deps) == {"revoked": [task["_id"]]}  # redelivered

    revoked = [e for e in bus.envelopes if e.type == TASK_REVOKED.type]
    assert len(revoked) == 1
    assert (await only_item(db))["open_task_id"] is None
    await assert_one_open_task_at_v2(db, deps, left=task["_id"])


async def test_another_request_to_revoke_a_revoked_task_is_still_refused() -> None:
    _, _, deps = await setup()
    task = await first_task(deps)
    ids = [task["_id"]]
    await revoke_tasks(message(REVOKE_TASKS, RevokeTasks(pending_item_ids=ids, actor=DEV)), deps)
    with pytest.raises(ReleasegateError, match="no longer pending"):
        await revoke_tasks(
            message(REVOKE_TASKS, RevokeTasks(pending_item_ids=ids, actor=DEV)), deps
        )


# -- tasks coming back ------------------------------------------------------


def returned(task: dict[str, Any]) -> Message[Any]:
    return message(
        PACKAGE_RETURNED,
        PackageReturned(
            package_id="P1",
            status=6,
            by="u-admin",
            reason="",
            tasks=[
                PackageTask(
                    pending_item_id=task["_id"], item_key=task["item_key"], pending_version=1
                )
            ],
        ),
    )


def finished_failed(task: dict[str, Any]) -> Message[Any]:
    return message(
        PACKAGE_FINISHED,
        PackageFinished(
            package_id="P1",
            asy_task_id="t1",
            deploy_status=FAILED,
            released_by="u-deployer",
            tasks=[
                TaskOutcome(
                    pending_item_id=task["_id"],
                    item_key=task["item_key"],
                    version=1,
                    update_type=task["update_type"],
                    deploy_status=FAILED,
                )
            ],
        ),
    )


RETURNS = {
    "package.returned": (package_returned, returned),
    "reservation released": (
        release_tasks,
        lambda _: message(RELEASE_TASKS, ReleaseTasks(package_id="P1")),
    ),
    "package.finished, failed": (package_finished, finished_failed),
}


@pytest.mark.parametrize("failing", ["save_item", "update_task"])
@pytest.mark.parametrize("kind", list(RETURNS))
async def test_a_replayed_return_leaves_one_open_task(kind: str, failing: str) -> None:
    db, store, deps = await setup()
    task = await first_task(deps)
    reserve = message(RESERVE_TASKS, ReserveTasks(package_id="P1", pending_item_ids=[task["_id"]]))
    await reserve_tasks(reserve, deps)
    handler, build = RETURNS[kind]
    msg = build(task)
    store.armed = failing
    with pytest.raises(ConnectionError):
        await handler(msg, deps)

    await handler(msg, deps)  # redelivered
    await submit_version(delivery(2), deps)

    [open_task] = await open_tasks(db)
    item = await only_item(db)
    assert open_task["_id"] == task["_id"] == item["open_task_id"]
    assert open_task["state"] == "pending" and open_task["package_id"] is None
    assert open_task["pending_version"] == item["open_task_version"] == 2


def test_a_task_that_holds_the_slot_already_reopens_it_again() -> None:
    item = Item("k", "p", "w", "job", "k", "k", open_task_id="t1", open_task_version=1)
    assert domain.task_returns(item, "t1") == domain.Reopen()
    assert domain.task_returns(item, "t0") == domain.Overtaken("t1")
