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


async def test_a_lingering_writer_takes_the_items_that_trickle_in() -> None:
    locks, write = KeyedLocks(), Writes()
    write.open.set()
    commit: GroupCommit[str, str] = GroupCommit(locks, linger_s=30, max_batch=3)
    callers = [asyncio.create_task(commit.submit("k", "a", write))]
    for item in "bc":
        await asyncio.sleep(0.01)
        assert write.batches == []  # still lingering
        callers.append(asyncio.create_task(commit.submit("k", item, write)))
    # The third item fills the batch: written at once, not after 30 s.
    assert await asyncio.wait_for(asyncio.gather(*callers), 5) == [f"stored {i}" for i in "abc"]
    assert write.batches == [["a", "b", "c"]]


async def test_a_complete_batch_ends_the_linger() -> None:
    locks, write = KeyedLocks(), Writes()
    write.open.set()
    commit: GroupCommit[str, str] = GroupCommit(locks, linger_s=30)
    done = lambda batch: "last" in batch  # noqa: E731
    first = asyncio.create_task(commit.submit("k", "a", write, done))
    await asyncio.sleep(0.01)
    last = asyncio.create_task(commit.submit("k", "last", write, done))
    assert await asyncio.wait_for(asyncio.gather(first, last), 5) == ["stored a", "stored last"]
    assert write.batches == [["a", "last"]]


async def test_a_linger_ends_after_its_time_with_what_came() -> None:
    locks, write = KeyedLocks(), Writes()
    write.open.set()
    commit: GroupCommit[str, str] = GroupCommit(locks, linger_s=0.05)
    assert await asyncio.wait_for(commit.submit("k", "alone", write), 5) == "stored alone"
    assert write.batches == [["alone"]]
