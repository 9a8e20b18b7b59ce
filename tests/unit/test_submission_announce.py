"""A submission is announced without an outbox: the task is written, the announcement
published, and the item saved last. A crash between any two steps leaves the upstream
message unacknowledged; its redelivery announces the same task under the same
message id, and nothing is stored twice."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from releasegate.shared.readmodels.pending_items import TASKS
from releasegate.shared.store.base import DuplicateKey
from releasegate.shared.store.memory import MemoryDatabase
from releasegate.submission.batches import Inserts
from releasegate.submission.domain import Item
from releasegate.submission.repository import ITEMS, VERSIONS, SubmissionStore
from releasegate.submission.versions import submit_version
from tests.helpers import RecordingBus
from tests.unit.submission_fakes import Crash, CrashingBus, delivery, deps_of


class BeforeInserts:
    """A collection whose inserts first run ``before`` on their documents."""

    def __init__(self, inner: Any, before: Callable[[Any], Awaitable[None]]) -> None:
        self.inner = inner
        self.before = before

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def insert_many(self, docs: Any, **kw: Any) -> Any:
        await self.before(docs)
        return await self.inner.insert_many(docs, **kw)


class ItemInsertCrashes(SubmissionStore):
    """Inserting a new item fails once: a crash after the announcement went out."""

    def __init__(self, db: MemoryDatabase) -> None:
        super().__init__(db)
        self.crashed = False
        self.items = BeforeInserts(self.items, self._crash_once)  # type: ignore[assignment]

    async def _crash_once(self, docs: Any) -> None:
        if not self.crashed:
            self.crashed = True
            raise Crash("died before saving the item")


async def stored(db: MemoryDatabase) -> tuple[list[Any], list[Any], list[Any]]:
    return (
        await db.collection(TASKS).find({}),
        await db.collection(ITEMS).find({}),
        await db.collection(VERSIONS).find({}),
    )


async def test_a_crash_before_the_announcement_is_announced_on_redelivery() -> None:
    db, bus = MemoryDatabase(), CrashingBus(fail=1)
    deps, msg = deps_of(db, bus), delivery(1)
    with pytest.raises(Crash):
        await submit_version(msg, deps)
    tasks, items, _ = await stored(db)
    assert len(tasks) == 1 and items == []  # the task is written, the item is not

    await submit_version(msg, deps)  # the redelivery

    tasks, items, versions = await stored(db)
    assert len(tasks) == 1 and len(items) == 1 and len(versions) == 1
    assert items[0]["open_task_id"] == tasks[0]["_id"]
    assert len(bus.published) == 1 and tasks[0]["outbox_n"] == 0 and not tasks[0]["outbox"]


async def test_a_crash_after_the_announcement_announces_the_same_message_again() -> None:
    db, bus = MemoryDatabase(), RecordingBus()
    deps, msg = deps_of(db, bus, ItemInsertCrashes(db)), delivery(1)
    with pytest.raises(Crash):
        await submit_version(msg, deps)
    await submit_version(msg, deps)

    tasks, items, versions = await stored(db)
    assert len(tasks) == 1 and len(items) == 1 and len(versions) == 1
    # Twice, under one message id: consumers deduplicate it.
    assert len(bus.published) == 2 and len(set(bus.published)) == 1


async def test_a_duplicate_after_the_item_is_saved_changes_and_announces_nothing() -> None:
    db, bus = MemoryDatabase(), RecordingBus()
    deps, msg = deps_of(db, bus), delivery(1)
    await submit_version(msg, deps)
    before = await stored(db)
    await submit_version(msg, deps)
    assert await stored(db) == before and len(bus.published) == 1


async def test_a_newer_version_supersedes_with_a_crash_before_its_announcement() -> None:
    db, bus = MemoryDatabase(), CrashingBus(fail=0)
    deps = deps_of(db, bus)
    await submit_version(delivery(1), deps)
    bus.fail = 1
    with pytest.raises(Crash):
        await submit_version(delivery(2), deps)
    await submit_version(delivery(2), deps)

    tasks, items, _ = await stored(db)
    assert len(tasks) == 1 and tasks[0]["pending_version"] == 2
    assert items[0]["max_version"] == 2 and items[0]["open_task_version"] == 2
    assert len(bus.published) == 2  # created (v1), superseded (v2)


async def test_the_outbox_sweep_passes_over_tasks_announced_directly() -> None:
    db, bus = MemoryDatabase(), RecordingBus()
    deps = deps_of(db, bus)
    for version in (1, 2):
        await submit_version(delivery(version), deps)
    # Its filter, outbox_n != 0, matches documents that lack the field.
    assert await db.collection(TASKS).count({"outbox_n": {"$ne": 0}}) == 0
    assert await deps.tasks_relay.sweep(grace_ms=0) == 0


class SlowCountingStore(SubmissionStore):
    """Counts the round trips of version inserts; each takes a moment, as on a server."""

    def __init__(self, db: MemoryDatabase) -> None:
        super().__init__(db)
        self.calls: list[int] = []
        self.versions = BeforeInserts(self.versions, self._count)  # type: ignore[assignment]

    async def _count(self, docs: Any) -> None:
        self.calls.append(len(docs))
        await asyncio.sleep(0.01)


async def test_concurrent_submissions_insert_their_versions_together() -> None:
    db = MemoryDatabase()
    store = SlowCountingStore(db)
    inserts = Inserts(store)
    docs = [{"_id": f"k{i}@1", "item_key": f"k{i}", "version": 1} for i in range(20)]
    await asyncio.gather(*(inserts.version(d) for d in docs))
    # The first goes alone; the others queue behind it and go in one more round trip.
    assert store.calls == [1, 19]
    assert await db.collection(VERSIONS).count({}) == 20
    await inserts.version(docs[0])  # a duplicate delivery: skipped, no error
    assert await db.collection(VERSIONS).count({}) == 20


async def test_an_existing_item_fails_only_its_own_insert_in_a_batch() -> None:
    db = MemoryDatabase()
    inserts = Inserts(SubmissionStore(db))

    def item(key: str) -> Item:
        return Item(key, "p", "w", "job", key, key, kept_versions=())

    await inserts.item(item("old"))
    results = await asyncio.gather(
        *(inserts.item(item(k)) for k in ("a", "old", "b")), return_exceptions=True
    )

    assert results[0] is None and results[2] is None
    assert isinstance(results[1], DuplicateKey)  # its retry reads the item and updates it
    assert sorted(d["_id"] for d in await db.collection(ITEMS).find({})) == ["a", "b", "old"]
