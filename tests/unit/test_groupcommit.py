"""GroupCommit's edges: a caller cancelled while it waits withdraws its item; a
writer cancelled mid-write fails the other callers of its batch, without cancelling
them."""

from __future__ import annotations

import asyncio

import pytest

from releasegate.shared.groupcommit import GroupCommit
from releasegate.shared.locks import KeyedLocks
from tests.helpers import eventually


class Writes:
    """A write that records its batches and finishes once ``open`` is set."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.open = asyncio.Event()

    async def __call__(self, items: list[str]) -> list[str]:
        self.batches.append(items)
        await self.open.wait()
        return [f"stored {i}" for i in items]


async def test_a_caller_cancelled_while_it_waits_withdraws_its_item() -> None:
    locks, write = KeyedLocks(), Writes()
    commit: GroupCommit[str, str] = GroupCommit(locks)
    write.open.set()
    async with locks.hold("k"):  # another writer of the aggregate is at work
        a, b, c = (asyncio.create_task(commit.submit("k", i, write)) for i in "abc")
        await asyncio.sleep(0)
        b.cancel()
        with pytest.raises(asyncio.CancelledError):
            await b
    assert (await a, await c) == ("stored a", "stored c")
    assert write.batches == [["a", "c"]]


async def test_a_writer_cancelled_mid_write_fails_its_batch() -> None:
    locks, write = KeyedLocks(), Writes()
    commit: GroupCommit[str, str] = GroupCommit(locks)
    async with locks.hold("k"):
        a, b = (asyncio.create_task(commit.submit("k", i, write)) for i in "ab")
        await asyncio.sleep(0)

    async def writing() -> bool:
        return write.batches == [["a", "b"]]

    await eventually(writing, what="a writes the batch")
    a.cancel()
    with pytest.raises(asyncio.CancelledError):
        await a
    with pytest.raises(RuntimeError, match="cancelled"):
        await b  # failed, so its message is retried, but not cancelled
    assert not b.cancelled()
