"""A new item is known to be new by claiming its key, not by reading it; an item that
may exist is read. Whatever the hint says, the decisions are the ones a read gives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest

from releasegate.shared.readmodels.pending_items import TASKS
from releasegate.shared.store.memory import MemoryDatabase
from releasegate.submission.claims import BACKFILLED, CLAIMS, Claim, ItemClaims
from releasegate.submission.deps import Deps
from releasegate.submission.repository import ITEMS
from releasegate.submission.versions import submit_version
from tests.helpers import ReadCountingDatabase, RecordingBus
from tests.unit.submission_fakes import Crash, CrashingBus, claims_ready, delivery, deps_of


async def claimed(db: MemoryDatabase) -> list[str]:
    return sorted(d["_id"] for d in await db.collection(CLAIMS).find({}))


async def test_a_burst_of_new_items_reads_none_of_them() -> None:
    db, bus = ReadCountingDatabase(), RecordingBus()
    deps = deps_of(db, bus)
    await claims_ready(deps)

    await asyncio.gather(*(submit_version(delivery(1, f"job{i}"), deps) for i in range(20)))

    assert db.reads[ITEMS] == 0
    assert len(await db.collection(TASKS).find({})) == 20 == len(bus.published)
    items = await db.collection(ITEMS).find({})
    assert await claimed(db) == sorted([BACKFILLED, *(d["_id"] for d in items)])


async def test_an_item_seen_before_is_read_and_its_task_superseded() -> None:
    db, bus = ReadCountingDatabase(), RecordingBus()
    deps = deps_of(db, bus)
    await claims_ready(deps)
    await submit_version(delivery(1, "orders"), deps)
    await submit_version(delivery(2, "orders"), deps)

    assert db.reads[ITEMS] == 1  # the second version only
    tasks = await db.collection(TASKS).find({})
    assert len(tasks) == 1 and tasks[0]["pending_version"] == 2
    assert [e.type for e in bus.envelopes] == ["task.created", "task.superseded"]


async def test_items_stored_before_claims_are_claimed_at_the_first_start() -> None:
    db, bus = MemoryDatabase(), RecordingBus()
    await submit_version(delivery(1, "orders"), deps_of(db, bus))
    await db.collection(CLAIMS).delete_many({})  # as stored by a release without claims

    deps = deps_of(db, bus)  # a restart
    await claims_ready(deps)
    key = (await db.collection(ITEMS).find({}))[0]["_id"]
    assert await deps.claims.claim_if_unseen(key) is Claim.UNKNOWN  # the hint has it
    await submit_version(delivery(2, "orders"), deps)

    tasks = await db.collection(TASKS).find({})
    assert len(tasks) == 1 and tasks[0]["pending_version"] == 2  # superseded, not opened
    items = await db.collection(ITEMS).find({})
    assert await claimed(db) == sorted([BACKFILLED, items[0]["_id"]])


async def test_older_items_are_claimed_once_then_the_mark_stops_the_scan() -> None:
    db, bus = MemoryDatabase(), RecordingBus()
    deps = deps_of(db, bus)
    for name in ("a", "b"):
        await submit_version(delivery(1, name), deps)
    await db.collection(CLAIMS).delete_many({})  # as stored before claims existed
    await claims_ready(deps_of(db, bus))
    assert len(await claimed(db)) == 3  # two items and the mark

    # An item written without a claim after the first start is not scanned for again
    # (why old replicas must be stopped before an upgrade).
    await db.collection(ITEMS).insert_one({"_id": "p/w/job/late"})
    await claims_ready(deps_of(db, bus))
    assert len(await claimed(db)) == 3 and "p/w/job/late" not in await claimed(db)


async def test_before_the_hint_is_loaded_new_items_are_read_then_claimed() -> None:
    db, bus = ReadCountingDatabase(), RecordingBus()
    deps = deps_of(db, bus)  # not loaded: the hint knows nothing yet

    await submit_version(delivery(1, "orders"), deps)

    assert db.reads[ITEMS] == 1
    item = (await db.collection(ITEMS).find({}))[0]
    assert await claimed(db) == [item["_id"]]  # so a later start knows it


async def test_a_crash_after_the_claim_is_redelivered_to_the_same_outcome() -> None:
    db, bus = MemoryDatabase(), CrashingBus(fail=1)
    deps = deps_of(db, bus)
    await claims_ready(deps)
    msg = delivery(1, "orders")
    with pytest.raises(Crash):
        await submit_version(msg, deps)
    assert await db.collection(ITEMS).find({}) == []  # claimed, task written, no item

    for fresh in (False, True):  # redelivered to this process, or after a restart
        if fresh:
            deps = deps_of(db, bus)
            await claims_ready(deps)
        await submit_version(msg, deps)

    tasks, items = await db.collection(TASKS).find({}), await db.collection(ITEMS).find({})
    assert len(tasks) == 1 and len(items) == 1 and items[0]["open_task_id"] == tasks[0]["_id"]
    assert len(bus.published) == 1  # the second redelivery found the item saved


async def test_a_key_claimed_by_another_process_since_the_start_is_read() -> None:
    db, bus = MemoryDatabase(), RecordingBus()
    standby, active = deps_of(db, bus), deps_of(db, bus)
    for deps in (standby, active):
        await claims_ready(deps)
    await submit_version(delivery(1, "orders"), active)  # before a failover

    key = (await db.collection(ITEMS).find({}))[0]["_id"]
    assert await standby.claims.claim_if_unseen(key) is Claim.SEEN
    await submit_version(delivery(2, "orders"), standby)  # after it

    tasks = await db.collection(TASKS).find({})
    assert len(tasks) == 1 and tasks[0]["pending_version"] == 2


async def test_a_full_hint_sends_new_items_to_a_read_and_decides_the_same() -> None:
    db, bus = ReadCountingDatabase(), RecordingBus()
    deps = deps_of(db, bus)
    deps = replace(deps, claims=ItemClaims(db.collection(CLAIMS), deps.store.items, capacity=1))
    for i in range(64):  # far past its capacity: every bit set, every key a "maybe"
        await db.collection(CLAIMS).insert_one({"_id": f"p/w/job/other{i}"})
    await claims_ready(deps)

    await asyncio.gather(*(submit_version(delivery(1, f"job{i}"), deps) for i in range(20)))

    assert db.reads[ITEMS] == 20  # read instead of claimed first
    assert len(await db.collection(TASKS).find({})) == 20 == len(bus.published)
    items = await db.collection(ITEMS).find({})
    assert set(await claimed(db)) >= {d["_id"] for d in items}  # claimed all the same


class GatedIds:
    """A collection whose ``ids()`` waits for ``gate`` before each id."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.gate = inner, asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def ids(self) -> AsyncIterator[Any]:
        async for key in self.inner.ids():
            await self.gate.wait()
            yield key


async def test_keys_claimed_while_the_filter_is_learnt_are_in_it() -> None:
    db, bus = MemoryDatabase(), RecordingBus()
    await submit_version(delivery(1, "before"), deps_of(db, bus))
    deps = deps_of(db, bus)
    gated = GatedIds(db.collection(CLAIMS))
    deps = replace(deps, claims=ItemClaims(gated, deps.store.items, capacity=10_000))  # type: ignore[arg-type]

    learning = asyncio.create_task(deps.claims.learn())
    await asyncio.sleep(0)  # the scan has begun, and waits
    assert await deps.claims.claim_if_unseen("p/w/job/x") is Claim.UNKNOWN  # not built yet
    await submit_version(delivery(1, "during"), deps)  # read, then claimed
    gated.gate.set()
    await learning

    keys = [d["_id"] for d in await db.collection(ITEMS).find({})]
    assert all([await deps.claims.claim_if_unseen(k) is Claim.UNKNOWN for k in keys])
    assert len(keys) == 2


class CountedIds(GatedIds):
    """A collection whose finished ``ids()`` scans are counted (and not held back)."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.gate.set()
        self.scans = 0

    async def ids(self) -> AsyncIterator[Any]:
        async for key in super().ids():
            yield key
        self.scans += 1


async def settled(condition: Any, turns: int = 200) -> bool:
    """Whether ``condition()`` holds within ``turns`` turns of the event loop."""
    for _ in range(turns):
        if condition():
            return True
        await asyncio.sleep(0)
    return bool(condition())


@asynccontextmanager
async def standby_after_others_claimed(
    every_s: float,
) -> AsyncIterator[tuple[MemoryDatabase, Deps, CountedIds, list[str]]]:
    """A standby whose filter is learnt (its background job running, its scans
    counted), then three new items claimed by the active replica: their keys."""
    db, bus = MemoryDatabase(), RecordingBus()
    standby, active = deps_of(db, bus), deps_of(db, bus)
    counted = CountedIds(db.collection(CLAIMS))
    claims = ItemClaims(counted, standby.store.items, capacity=10_000, relearn_every_s=every_s)  # type: ignore[arg-type]
    standby = replace(standby, claims=claims)
    job = asyncio.create_task(standby.claims.keep_learnt(asyncio.Event()))
    try:
        await claims_ready(active)
        assert await settled(lambda: counted.scans == 1)  # the standby's filter, learnt
        for name in ("a", "b", "c"):
            await submit_version(delivery(1, name), active)
        keys = sorted(d["_id"] for d in await db.collection(ITEMS).find({}))
        yield db, standby, counted, keys
    finally:
        job.cancel()


async def test_after_a_takeover_the_keys_the_other_process_claimed_are_learnt() -> None:
    async with standby_after_others_claimed(every_s=0) as (db, standby, counted, keys):
        # The first of them collides: the standby learns that it was not alone ...
        assert await standby.claims.claim_if_unseen(keys[0]) is Claim.SEEN
        assert await settled(lambda: counted.scans == 2)
        # ... and knows the others without colliding again.
        assert [await standby.claims.claim_if_unseen(k) for k in keys[1:]] == [Claim.UNKNOWN] * 2
        await submit_version(delivery(2, "b"), standby)
    tasks = await db.collection(TASKS).find({})
    assert len(tasks) == 3 and sorted(t["pending_version"] for t in tasks) == [1, 1, 2]


async def test_surprises_in_a_burst_are_learnt_once_a_minute_at_most() -> None:
    async with standby_after_others_claimed(every_s=60) as (db, standby, counted, keys):
        assert await standby.claims.claim_if_unseen(keys[0]) is Claim.SEEN
        assert await settled(lambda: counted.scans == 2)  # learnt again at once
        await db.collection(CLAIMS).insert_one({"_id": "p/w/job/later"})  # claimed elsewhere
        assert await standby.claims.claim_if_unseen("p/w/job/later") is Claim.SEEN
        assert not await settled(lambda: counted.scans > 2)  # not before a minute is up
