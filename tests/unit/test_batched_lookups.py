"""Lookups by _id that pile up while one is in flight go in one read per group; each
caller gets its own document."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from releasegate.shared.store.base import Doc, StoreUnavailable
from releasegate.shared.store.lookups import BatchedLookups
from releasegate.shared.store.memory import MemoryDatabase


class Recording:
    """A collection that records each read's filter, and may fail them."""

    def __init__(self) -> None:
        self.inner = MemoryDatabase().collection("c")
        self.name = "c"
        self.reads: list[Mapping[str, Any]] = []
        self.fail = False

    async def _read(self, filt: Mapping[str, Any]) -> None:
        self.reads.append(filt)
        await asyncio.sleep(0.01)  # in flight while others arrive
        if self.fail:
            raise StoreUnavailable("down")

    async def find_one(self, filt: Mapping[str, Any], **kw: Any) -> Doc | None:
        await self._read(filt)
        return await self.inner.find_one(filt, **kw)

    async def find(self, filt: Mapping[str, Any], **kw: Any) -> list[Doc]:
        await self._read(filt)
        return await self.inner.find(filt, **kw)


async def _seeded() -> Recording:
    coll = Recording()
    await coll.inner.insert_many(
        [
            {"_id": f"{p}:{i}", "package_id": p, "n": i, "outbox": "x"}
            for p in "PQ"
            for i in range(4)
        ]
    )
    return coll


async def test_concurrent_lookups_share_one_read_per_group() -> None:
    coll = await _seeded()
    lookups = BatchedLookups(coll, "package_id", {"outbox": 0})  # type: ignore[arg-type]
    assert await lookups.get("P:0", "P") == {"_id": "P:0", "package_id": "P", "n": 0}
    assert coll.reads == [{"_id": "P:0"}]  # alone: by _id

    asks = [("P:0", "P"), ("P:1", "P"), ("P:9", "P"), ("P:1", "P"), ("Q:2", "Q"), ("Q:3", "Q")]
    found = await asyncio.gather(*(lookups.get(i, g) for i, g in asks))

    assert [d and d["_id"] for d in found] == ["P:0", "P:1", None, "P:1", "Q:2", "Q:3"]
    assert all(d is None or "outbox" not in d for d in found)
    # The first goes at once; the rest together, one read for each package.
    assert coll.reads[1] == {"_id": "P:0"}
    assert sorted(coll.reads[2:], key=str) == [
        {"package_id": "P", "_id": {"$in": ["P:1", "P:9"]}},
        {"package_id": "Q", "_id": {"$in": ["Q:2", "Q:3"]}},
    ]


async def test_a_failed_read_fails_every_caller_in_it() -> None:
    coll = await _seeded()
    coll.fail = True
    lookups = BatchedLookups(coll, "package_id")  # type: ignore[arg-type]
    results = await asyncio.gather(
        *(lookups.get(f"P:{i}", "P") for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, StoreUnavailable) for r in results)
    coll.fail = False
    doc = await lookups.get("P:2", "P")  # a retry reads
    assert doc is not None and doc["n"] == 2


async def test_a_cancelled_lookup_leaves_the_others_their_answers() -> None:
    coll = await _seeded()
    lookups = BatchedLookups(coll, "package_id")  # type: ignore[arg-type]
    first = asyncio.ensure_future(lookups.get("P:0", "P"))
    await asyncio.sleep(0)
    waiting = [asyncio.ensure_future(lookups.get(f"P:{i}", "P")) for i in (1, 2)]
    await asyncio.sleep(0)
    waiting[0].cancel()
    assert (await first)["n"] == 0  # type: ignore[index]
    assert (await waiting[1])["n"] == 2  # type: ignore[index]
    with pytest.raises(asyncio.CancelledError):
        await waiting[0]
