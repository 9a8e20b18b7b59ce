"""Inserts that pile up while one is in flight go in one command; each caller
learns whether its own document went in."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from releasegate.shared.store.base import Doc, StoreUnavailable
from releasegate.shared.store.batched import BatchedInserts
from releasegate.shared.store.memory import MemoryDatabase


class Recording:
    """A collection that records the size of each insert_many, and may fail them."""

    def __init__(self) -> None:
        self.inner = MemoryDatabase().collection("c")
        self.name = "c"
        self.batches: list[int] = []
        self.fail = False

    async def insert_many(self, docs: Sequence[Doc], **kw: Any) -> list[bool]:
        self.batches.append(len(docs))
        await asyncio.sleep(0.01)  # in flight while others arrive
        if self.fail:
            raise StoreUnavailable("down")
        return await self.inner.insert_many(docs, **kw)


async def test_concurrent_inserts_share_commands_and_each_learns_its_result() -> None:
    coll = Recording()
    inserts = BatchedInserts(coll)  # type: ignore[arg-type]
    await inserts.insert({"_id": 3})

    results = await asyncio.gather(*(inserts.insert({"_id": i}) for i in range(8)))

    assert results == [True, True, True, False, True, True, True, True]  # 3 was there
    assert coll.batches == [1, 1, 7]  # the first goes at once; the rest together
    assert await coll.inner.count({}) == 8


async def test_a_failed_batch_fails_every_caller_in_it() -> None:
    coll = Recording()
    coll.fail = True
    inserts = BatchedInserts(coll)  # type: ignore[arg-type]
    results = await asyncio.gather(
        *(inserts.insert({"_id": i}) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, StoreUnavailable) for r in results)
    coll.fail = False
    assert await inserts.insert({"_id": 0}) is True  # a retry goes in
