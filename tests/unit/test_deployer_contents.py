"""The deployer reads a package's contents once, for all of its tasks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from releasegate.deployer.contents import PackageContents
from releasegate.shared.readmodels.packages import PACKAGE_ITEMS
from releasegate.shared.store.base import StoreUnavailable
from tests.helpers import ReadCountingDatabase


async def with_items(db: ReadCountingDatabase, package_id: str, contents: dict[str, Any]) -> None:
    await db.collection(PACKAGE_ITEMS).insert_many(
        [
            {
                "_id": f"{package_id}:{i}",
                "package_id": package_id,
                "pending_item_id": i,
                "content": c,
            }
            for i, c in contents.items()
        ]
    )


async def test_tasks_of_one_package_arriving_together_share_one_read() -> None:
    db = ReadCountingDatabase()
    await with_items(db, "p", {str(i): {"sql": f"select {i}"} for i in range(10)})
    contents = PackageContents(db.collection(PACKAGE_ITEMS))

    got = await asyncio.gather(*(contents.content("p", str(i)) for i in range(10)))
    assert got == [{"sql": f"select {i}"} for i in range(10)]
    assert await contents.content("p", "3") == {"sql": "select 3"}  # later: from memory
    assert db.reads[PACKAGE_ITEMS] == 1


async def test_an_item_missing_from_the_read_is_read_alone() -> None:
    db = ReadCountingDatabase()
    await with_items(db, "p", {"a": "A"})
    contents = PackageContents(db.collection(PACKAGE_ITEMS))
    assert await contents.content("p", "a") == "A"
    assert await contents.content("p", "ghost") is None
    assert db.reads[PACKAGE_ITEMS] == 2


async def test_a_failed_read_is_not_kept() -> None:
    db = ReadCountingDatabase()
    await with_items(db, "p", {"a": "A"})
    items = db.collection(PACKAGE_ITEMS)
    failing = True

    class Flaky:
        async def find(self, *a: Any, **kw: Any) -> Any:
            if failing:
                raise StoreUnavailable("down")
            return await items.find(*a, **kw)

    contents = PackageContents(Flaky())  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailable):
        await contents.content("p", "a")
    failing = False
    assert await contents.content("p", "a") == "A"


async def test_old_packages_and_big_ones_are_not_kept() -> None:
    db = ReadCountingDatabase()
    for p in ("p1", "p2", "p3"):
        await with_items(db, p, {"a": p})
    await with_items(db, "big", {"a": "x" * 2_000})
    contents = PackageContents(db.collection(PACKAGE_ITEMS), keep=2, budget_bytes=1_000)

    for p in ("p1", "p2", "p3"):
        assert await contents.content(p, "a") == p
    assert db.reads[PACKAGE_ITEMS] == 3
    await contents.content("p3", "a")
    await contents.content("p1", "a")  # dropped for p3: the oldest of three, keep=2
    assert db.reads[PACKAGE_ITEMS] == 4

    assert await contents.content("big", "a") == "x" * 2_000  # over the budget alone
    await contents.content("big", "a")
    assert db.reads[PACKAGE_ITEMS] == 6


async def test_a_cancelled_task_leaves_the_read_to_the_others() -> None:
    db = ReadCountingDatabase()
    await with_items(db, "p", {"a": "A", "b": "B"})
    contents = PackageContents(db.collection(PACKAGE_ITEMS))
    first = asyncio.ensure_future(contents.content("p", "a"))
    second = asyncio.ensure_future(contents.content("p", "b"))
    await asyncio.sleep(0)  # both wait on the one read
    first.cancel()

    assert await second == "B"
    assert await contents.content("p", "a") == "A"  # kept: not read again
    assert db.reads[PACKAGE_ITEMS] == 1
