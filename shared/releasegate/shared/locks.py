"""Per-key locks for the writes of one process.

FerretDB applies an update as read, modify, replace-whole-document, so two
concurrent updates of the same document can lose one of them (MongoDB cannot).
Each aggregate therefore has one writer: its service consumes with a single
active consumer, and inside the process every write to an aggregate (handler or
outbox relay) holds that aggregate's lock. Races between processes that must be
decided once use inserts under unique indexes instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
