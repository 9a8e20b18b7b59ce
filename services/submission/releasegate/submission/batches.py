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

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from releasegate.shared.groupcommit import GroupCommit
from releasegate.shared.locks import KeyedLocks
from releasegate.submission.domain import Item
from releasegate.submission.repository import SubmissionStore

T = TypeVar("T")


class Inserts:
    def __init__(self, store: SubmissionStore, locks: KeyedLocks) -> None:
        self._versions: GroupCommit[dict[str, Any], None] = GroupCommit(locks)
        self._tasks: GroupCommit[dict[str, Any], None] = GroupCommit(locks)
        self._items: GroupCommit[Item, None] = GroupCommit(locks)
        self._write_versions = _per_item(store.save_versions)
        self._write_tasks = _per_item(store.create_tasks)
        self._write_items = _per_item(store.insert_items)

    async def version(self, doc: dict[str, Any]) -> None:
        """Store a version; one stored before (a duplicate delivery) is kept as it is."""
        await self._versions.submit("batch:versions", doc, self._write_versions)

    async def task(self, doc: dict[str, Any]) -> None:
        """Insert a new task; one inserted before (a replay) is kept as it is."""
        await self._tasks.submit("batch:tasks", doc, self._write_tasks)

    async def item(self, item: Item) -> None:
        """Insert a new item; ``DuplicateKey`` if it exists after all."""
        await self._items.submit("batch:items", item, self._write_items)


def _per_item(
    write: Callable[[list[T]], Awaitable[None]],
) -> Callable[[list[T]], Awaitable[list[None]]]:
    """A batch write as ``GroupCommit`` takes it: one result per item."""

    async def batch(items: list[T]) -> list[None]:
        await write(items)
        return [None] * len(items)

    return batch
