"""Group commit: writes to one aggregate that queue up behind its lock are stored
together, in one write.

The writes to an aggregate hold its key lock one at a time (see ``locks``), so a
burst of them waits in line, one round trip each. Instead each caller queues its
item, then takes the lock; whoever gets it while its own item is still queued writes
every item queued for that key, and each caller returns once its item is stored,
whoever stored it. If that write fails, every caller of the batch raises: no caller
acknowledges an item that was not stored, and its message is retried.

With ``linger_s``, the writer first waits (holding the lock) up to that long for more
items, unless the batch is already ``max_batch`` long or the caller's ``complete``
says it needs nobody else: fewer, bigger writes when items trickle in faster than
they could be written one by one, at the price of at most ``linger_s`` of latency.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from releasegate.shared.locks import KeyedLocks

T = TypeVar("T")
R = TypeVar("R")


class _Queued(Generic[T, R]):
    """An item waiting to be written, and its caller's view of the write."""

    def __init__(self, item: T) -> None:
        self.item = item
        self.done: asyncio.Future[R] = asyncio.get_running_loop().create_future()


class GroupCommit(Generic[T, R]):
    def __init__(self, locks: KeyedLocks, linger_s: float = 0.0, max_batch: int = 64) -> None:
        self._locks = locks
        self._queued: dict[str, list[_Queued[T, R]]] = {}
        self._linger_s = linger_s
        self._max_batch = max_batch
        self._arrived: dict[str, asyncio.Event] = {}  # keys whose writer is lingering

    async def submit(
        self,
        key: str,
        item: T,
        write: Callable[[list[T]], Awaitable[Sequence[R]]],
        complete: Callable[[list[T]], bool] | None = None,
    ) -> R:
        """Store ``item`` with whatever else is queued for ``key``; its result.

        ``write`` stores a batch (under the key's lock) and returns one result per
        item, in order; every caller of one key passes the same ``write``.
        ``complete(batch)`` True ends a linger at once (e.g. the batch finishes the
        aggregate, so nothing more will come)."""
        mine: _Queued[T, R] = _Queued(item)
        self._queued.setdefault(key, []).append(mine)
        if key in self._arrived:
            self._arrived[key].set()
        try:
            async with self._locks.hold(key):
                if not mine.done.done():  # nobody has taken it: write it and all queued
                    await self._linger(key, complete)
                    await self._commit(self._queued.pop(key), write, mine)
        finally:
            if not mine.done.done():
                self._withdraw(key, mine)  # cancelled while waiting: its message returns
        return mine.done.result()

    async def _linger(self, key: str, complete: Callable[[list[T]], bool] | None) -> None:
        """Wait for more items of ``key``, up to ``linger_s`` in all."""
        if self._linger_s <= 0:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._linger_s
        arrived = self._arrived[key] = asyncio.Event()
        try:
            while True:
                batch = [q.item for q in self._queued.get(key, [])]
                left = deadline - loop.time()
                if left <= 0 or len(batch) >= self._max_batch or (complete and complete(batch)):
                    return
                arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(arrived.wait(), left)
        finally:
            del self._arrived[key]

    async def _commit(
        self,
        batch: list[_Queued[T, R]],
        write: Callable[[list[T]], Awaitable[Sequence[R]]],
        mine: _Queued[T, R],
    ) -> None:
        try:
            written = list(zip(batch, await write([q.item for q in batch]), strict=True))
        except Exception as exc:  # noqa: BLE001 - it is every caller's error: they raise it
            for q in batch:
                q.done.set_exception(exc)
        except BaseException:
            # Cancelled mid-write: whether the batch is stored is unknown, so the other
            # callers fail too (and are retried) without being cancelled themselves.
            mine.done.cancel()
            for q in batch:
                if q is not mine:
                    q.done.set_exception(RuntimeError("the write of this batch was cancelled"))
            raise
        else:
            for q, result in written:
                q.done.set_result(result)

    def _withdraw(self, key: str, mine: _Queued[T, R]) -> None:
        queued = self._queued.get(key, [])
        if mine in queued:
            queued.remove(mine)
            if not queued:
                del self._queued[key]
