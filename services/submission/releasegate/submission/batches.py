"""Inserts of concurrent submissions, written together.

Upstream events arrive in bursts (a whole workspace's jobs), up to ``prefetch`` at a
time. Each one inserts a version, usually a task and, for a new item, the item. One
round trip per document costs the MongoDB-wire server far more than the document
itself (measured on FerretDB: 1,200 single inserts/s against 13,000 documents/s in
batches of 64), so the inserts that queue up while a batch is being written go
together in the next one (``GroupCommit`` on one key per collection).

A failed batch fails every caller in it, whose messages are then retried: a version
or task stored by an earlier attempt is skipped as a duplicate, and an item that
already exists makes its caller's retry read it and update it instead.
"""

from __future__ import annotations

from typing import Any

from releasegate.shared.groupcommit import GroupCommit
from releasegate.shared.locks import KeyedLocks
from releasegate.submission.domain import Item
from releasegate.submission.repository import SubmissionStore


class Inserts:
    def __init__(self, store: SubmissionStore, locks: KeyedLocks) -> None:
        self._store = store
        self._versions: GroupCommit[dict[str, Any], None] = GroupCommit(locks)
        self._tasks: GroupCommit[dict[str, Any], None] = GroupCommit(locks)
        self._items: GroupCommit[Item, None] = GroupCommit(locks)

    async def version(self, doc: dict[str, Any]) -> None:
        """Store a version; one stored before (a duplicate delivery) is kept as it is."""
        await self._versions.submit("batch:versions", doc, self._write_versions)

    async def task(self, doc: dict[str, Any]) -> None:
        """Insert a new task; one inserted before (a replay) is kept as it is."""
        await self._tasks.submit("batch:tasks", doc, self._write_tasks)

    async def item(self, item: Item) -> None:
        """Insert a new item; ``DuplicateKey`` if it exists after all."""
        await self._items.submit("batch:items", item, self._write_items)

    async def _write_versions(self, docs: list[dict[str, Any]]) -> list[None]:
        await self._store.save_versions(docs)
        return [None] * len(docs)

    async def _write_tasks(self, docs: list[dict[str, Any]]) -> list[None]:
        await self._store.create_tasks(docs)
        return [None] * len(docs)

    async def _write_items(self, items: list[Item]) -> list[None]:
        await self._store.insert_items(items)
        return [None] * len(items)
