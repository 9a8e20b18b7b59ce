"""Inserts of concurrent submissions, written together.

Upstream events arrive in bursts (a whole workspace's jobs), up to ``prefetch`` at a
time. Each one inserts a version, usually a task and, for a new item, the item. One
round trip per document costs the MongoDB-wire server far more than the document
itself (measured on FerretDB: 1,200 single inserts/s against 13,000 documents/s in
batches of 64), so the inserts that queue up while a batch is being written go
together in the next one (``shared.store.batched``, one per collection).

A failed batch fails every caller in it, whose messages are then retried: a version
or task stored by an earlier attempt is skipped as a duplicate, and an item that
already exists makes its own caller's retry read it and update it instead.
"""

from __future__ import annotations

from typing import Any

from releasegate.shared.store.base import DuplicateKey
from releasegate.shared.store.batched import BatchedInserts
from releasegate.submission.domain import Item
from releasegate.submission.repository import SubmissionStore, item_doc


class Inserts:
    def __init__(self, store: SubmissionStore) -> None:
        self._versions = BatchedInserts(store.versions)
        self._tasks = BatchedInserts(store.tasks)
        self._items = BatchedInserts(store.items)

    async def version(self, doc: dict[str, Any]) -> None:
        """Store a version; one stored before (a duplicate delivery) is kept as it is."""
        await self._versions.insert(doc)

    async def task(self, doc: dict[str, Any]) -> bool:
        """Insert a new task; False if one with its id was there first (it is kept)."""
        return await self._tasks.insert(doc)

    async def item(self, item: Item) -> None:
        """Insert a new item; ``DuplicateKey`` if it exists after all."""
        if not await self._items.insert(item_doc(item)):
            raise DuplicateKey(f"item {item.key} exists")
