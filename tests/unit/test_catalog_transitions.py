"""Concurrent changes of one production item, on a store that updates the way FerretDB
does: read, then replace the whole document. Two conditional updates of one document
can then both match; each change of an item must still be decided once (by an insert
under a unique index), so none is lost and the history is one chain of versions."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from releasegate.deployer.targets.base import Applied, TransientTargetError
from releasegate.deployer.targets.catalog import CLAIM_LEASE_MS, CatalogTarget
from releasegate.shared.clock import FakeClock
from releasegate.shared.readmodels.production import CATALOG, HISTORY
from releasegate.shared.store.base import Collection, UpdateOutcome
from releasegate.shared.store.memory import MemoryCollection, MemoryDatabase
from releasegate.shared.store.query import apply_update, matches
from tests.embedded import embedded_flow
from tests.helpers import ReadCountingDatabase, RecordingBus
from tests.unit.deployer_fakes import work_item

ITEM = work_item().item_key


class ReadModifyReplace:
    """A collection whose updates are FerretDB's: find the document, let other
    coroutines run, then replace it with the updated copy, whatever happened meanwhile.
    ``slow`` delays chosen updates more (by the version they set)."""

    def __init__(self, inner: MemoryCollection, slow: dict[int, float]) -> None:
        self._inner, self._slow = inner, slow
        self.name = inner.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def _read_modify_replace(self, filter: Any, update: Any) -> dict[str, Any] | None:
        found = [d for d in self._inner._docs.values() if matches(d, filter)]
        if not found:
            return None
        doc = copy.deepcopy(found[0])
        await asyncio.sleep(0.002 + self._slow.get(update.get("$set", {}).get("version"), 0))
        apply_update(doc, update, inserting=False)
        async with self._inner._lock:
            self._inner._docs[doc["_id"]] = doc
        return copy.deepcopy(doc)

    async def update_one(self, filter: Any, update: Any, *, upsert: bool = False) -> UpdateOutcome:
        if await self._read_modify_replace(filter, update) is None:
            return await self._inner.update_one(filter, update, upsert=upsert)
        return UpdateOutcome(1, 1)

    async def find_one_and_update(self, filter: Any, update: Any) -> dict[str, Any] | None:
        return await self._read_modify_replace(filter, update)


class FerretLikeDatabase(MemoryDatabase):
    """The production catalog updated by read-modify-replace; the rest as in memory."""

    def __init__(self, slow: dict[int, float] | None = None) -> None:
        super().__init__()
        self.slow = slow or {}

    def collection(self, name: str) -> Collection:
        inner = super().collection(name)
        if name == CATALOG:
            assert isinstance(inner, MemoryCollection)
            return ReadModifyReplace(inner, self.slow)  # type: ignore[return-value]
        return inner


async def replica(db: MemoryDatabase) -> CatalogTarget:
    """One deployer replica's target (its own batching) on the shared database, its
    indexes ensured as at a worker's startup."""
    target = CatalogTarget(db, RecordingBus(), FakeClock())  # type: ignore[arg-type]
    await target.ensure_indexes()
    return target


def change(version: int, seen: int | None, known: bool = True, **fields: Any) -> Any:
    ids = {"package_id": f"p{version}", "pending_item_id": f"t{version}"}
    return work_item(
        version=version,
        production_version=seen,
        production_version_known=known,
        **{**ids, **fields},
    )


async def chain_of(db: MemoryDatabase, item: str = ITEM) -> tuple[list[int | None], Any]:
    """The versions in the order the history links them (each entry's previous version
    is the version before it), and production's version. Fails on a fork or a gap."""
    entries = await db.collection(HISTORY).find({"item_key": item})
    live = await db.collection(CATALOG).find_one({"_id": item})
    assert live is not None
    order: list[int | None] = [None]
    left = list(entries)
    while left:
        nxt = [e for e in left if e["previous_version"] == order[-1]]
        assert len(nxt) == 1, f"after {order}: {len(nxt)} entries follow, in {entries}"
        order.append(nxt[0]["version"])
        left.remove(nxt[0])
    return order[1:], live


async def test_two_changes_of_one_item_at_once_are_both_applied_in_turn() -> None:
    """The audited lost update: v2 and v3 both packaged while v1 was live, released at
    once on two replicas. Before: both conditional writes matched, the history said
    1->2 and 1->3, and the catalog kept one of them."""
    for slow in ({}, {2: 0.01}, {3: 0.01}):
        db = FerretLikeDatabase(slow)
        a, b = await replica(db), await replica(db)
        await a.deploy(change(1, None), {"v": 1})

        v2, v3 = await asyncio.gather(
            a.deploy(change(2, 1), {"v": 2}), b.deploy(change(3, 1), {"v": 3})
        )

        order, live = await chain_of(db)
        assert sorted(order) == [1, 2, 3], order
        assert live["version"] == order[-1] and live["content"] == {"v": order[-1]}
        later = v3 if order[-1] == 3 else v2
        assert later.previous_version == order[1]  # it reports what it replaced
        assert later.rollback == (order[-1] < order[1])


@pytest.mark.parametrize("known", [(True, True), (True, False), (False, False)])
async def test_many_changes_of_one_item_at_once_form_one_chain(known: tuple[bool, bool]) -> None:
    db = FerretLikeDatabase()
    targets = [await replica(db) for _ in range(3)]
    await targets[0].deploy(change(1, None), {"v": 1})
    tasks = [change(v, 1, known[v % 2]) for v in range(2, 8)]

    applied = await asyncio.gather(
        *(targets[i % 3].deploy(t, {"v": t.version}) for i, t in enumerate(tasks))
    )

    order, live = await chain_of(db)
    assert sorted(order) == list(range(1, 8))
    assert live["version"] == order[-1]
    for task, result in zip(tasks, applied, strict=True):
        at = order.index(task.version)
        assert result == Applied(task.version < order[at - 1], order[at - 1])


async def test_a_rollback_and_a_delete_racing_a_new_version_stay_in_one_chain() -> None:
    db = FerretLikeDatabase()
    a, b, c = [await replica(db) for _ in range(3)]
    for v in (1, 2, 3):
        await a.deploy(change(v, v - 1 or None), {"v": v})

    racing = [
        change(1, 3, pending_item_id="back"),  # a rollback to 1
        change(4, 3),
        change(3, 3, update_type=3, pending_item_id="gone"),  # a delete
    ]

    await asyncio.gather(
        *(t.deploy(r, {"v": r.version}) for t, r in zip((a, b, c), racing, strict=True))
    )

    keys = [r.idempotency_key for r in racing]
    entries = await db.collection(HISTORY).find({"_id": {"$in": keys}})
    live = await db.collection(CATALOG).find_one({"_id": ITEM})
    assert live is not None and len(entries) == 3
    # Each change left the state the one before it entered: 3, then the three in turn.
    states: list[int | None] = [3]
    while entries:
        nxt = [e for e in entries if e["previous_version"] == states[-1]]
        assert len(nxt) == 1, (states, entries)
        states.append(None if nxt[0]["action"] == "delete" else nxt[0]["version"])
        entries.remove(nxt[0])
    assert (None if live["deleted"] else live["version"]) == states[-1]


async def test_a_duplicate_delivery_racing_itself_applies_the_change_once() -> None:
    db = FerretLikeDatabase()
    a, b = await replica(db), await replica(db)
    await a.deploy(change(1, None), {"v": 1})
    task = change(2, 1)

    first, second = await asyncio.gather(a.deploy(task, {"v": 2}), b.deploy(task, {"v": 2}))
    again = await a.deploy(task, {"v": 2})

    assert first == second == again == Applied(False, 1)
    order, live = await chain_of(db)
    assert order == [1, 2] and live["version"] == 2


async def test_a_redelivery_after_later_changes_does_not_apply_again() -> None:
    db = FerretLikeDatabase()
    a, b = await replica(db), await replica(db)
    await a.deploy(change(1, None), {"v": 1})
    task = change(2, 1)
    await a.deploy(task, {"v": 2})
    await b.deploy(change(3, 2), {"v": 3})
    await b.deploy(change(1, 3, pending_item_id="back"), {"v": 1})  # production is at 1 again

    assert await b.deploy(task, {"v": 2}) == Applied(False, 1)

    order, live = await chain_of(db)
    assert order == [1, 2, 3, 1] and live["version"] == 1


class FailingOnce:
    """The catalog write fails once (the worker died after its claim): the change is
    completed by its redelivery, and a change behind it waits, then goes on top."""

    def __init__(self, inner: Any) -> None:
        self._inner, self.fail = inner, True
        self.name = inner.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def find_one_and_update(self, filter: Any, update: Any) -> Any:
        if self.fail:
            self.fail = False
            raise ConnectionError("worker died")
        return await self._inner.find_one_and_update(filter, update)


class DyingDatabase(MemoryDatabase):
    def collection(self, name: str) -> Collection:
        inner = super().collection(name)
        return FailingOnce(inner) if name == CATALOG else inner  # type: ignore[return-value]


async def test_a_change_that_died_after_its_claim_is_completed_by_its_redelivery() -> None:
    db = MemoryDatabase()
    await (await replica(db)).deploy(change(1, None), {"v": 1})
    dying_db = DyingDatabase()
    dying_db._collections = db._collections  # the same collections, a failing catalog
    dying = await replica(dying_db)
    task = change(2, 1)
    with pytest.raises(ConnectionError):
        await dying.deploy(task, {"v": 2})
    behind = asyncio.ensure_future((await replica(db)).deploy(change(3, 1), {"v": 3}))
    await asyncio.sleep(0.02)
    assert not behind.done()  # production's state is claimed by the change that died

    assert await dying.deploy(task, {"v": 2}) == Applied(False, 1)  # its redelivery
    assert await behind == Applied(False, 2)

    order, live = await chain_of(db)
    assert order == [1, 2, 3] and live["version"] == 3


async def test_a_claim_abandoned_for_good_is_retired_after_its_lease() -> None:
    """A change that died after its claim and is never delivered again (its release was
    stopped, or it was dead-lettered) holds its item's state only for the lease."""
    db = MemoryDatabase()
    clock = FakeClock()
    first = CatalogTarget(db, RecordingBus(), clock)  # type: ignore[arg-type]
    await first.ensure_indexes()
    await first.deploy(change(1, None), {"v": 1})
    dying_db = DyingDatabase()
    dying_db._collections = db._collections
    dying = CatalogTarget(dying_db, RecordingBus(), clock)  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        await dying.deploy(change(2, 1), {"v": 2})
    other = CatalogTarget(db, RecordingBus(), clock)  # type: ignore[arg-type]
    with pytest.raises(TransientTargetError):
        await other.deploy(change(3, 1), {"v": 3})  # within the lease: it waits, then retries
    clock.advance(CLAIM_LEASE_MS + 1)
    assert await other.deploy(change(3, 1), {"v": 3}) == Applied(False, 1)
    order, live = await chain_of(db)
    assert order == [1, 3] and live["version"] == 3


async def test_states_entered_again_can_be_left_again_without_reading_production() -> None:
    """Rollbacks, redeploys and deletes free the state they enter: the next change that
    saw it leaves it by its claim alone."""
    db = ReadCountingDatabase()
    a = await replica(db)
    steps = [
        (change(1, None), 1),
        (change(2, 1), 2),
        (change(1, 2, pending_item_id="back"), 1),  # rollback: v1 entered again
        (change(2, 1, pending_item_id="fwd"), 2),  # v2 entered again
        (change(2, 2, pending_item_id="same"), 2),  # the same version again
        (change(2, 2, update_type=3, pending_item_id="del"), None),  # deleted
        (change(5, None), 5),  # absent entered again, then left
        (change(5, 5, update_type=3, pending_item_id="del2"), None),
        (change(6, None), 6),
    ]
    for task, expected in steps:
        applied = await a.deploy(task, {"v": task.version})
        assert db.reads[CATALOG] == 0, task
        live = await MemoryDatabase.collection(db, CATALOG).find_one({"_id": ITEM})
        assert live is not None
        assert (None if live["deleted"] else live["version"]) == expected
        assert applied.previous_version == task.production_version
    entries = await db.collection(HISTORY).find({})
    assert len(entries) == len(steps)


async def test_two_packages_of_one_item_released_at_once_end_in_one_chain() -> None:
    """The audited path end to end: v2 and v3 of one item in two packages, released
    together; the catalog, the history and the tasks' outcomes agree."""
    db = FerretLikeDatabase({2: 0.03})
    async with embedded_flow(db=db) as (_, flow):
        first = (await flow.submit("x", 1))["pending_item_id"]
        r = await flow.deploy([await flow.package([first])])
        await flow.until_done(r.json()["deploy_package_details"][0]["asy_task_id"])
        p2 = await flow.package([(await flow.submit("x", 2))["pending_item_id"]])
        p3 = await flow.package([(await flow.submit("x", 3))["pending_item_id"]])
        r = await flow.deploy([p2, p3])
        assert r.status_code == 200, r.text
        for d in r.json()["deploy_package_details"]:
            assert (await flow.until_done(d["asy_task_id"]))["status"] == "SUCCESSFUL"
        [live] = await db.collection(CATALOG).find({})
        order, _ = await chain_of(db, live["_id"])
        assert sorted(order) == [1, 2, 3] and live["version"] == order[-1]
