"""Inserts into one collection that pile up while one is in flight go together.

Each caller still learns whether its own document went in (or hit a unique index,
which decides a race between duplicates). A MongoDB-wire server pays a fixed cost
per command, so a worker with several tasks in flight, each inserting into the same
collections, sends fewer, bigger inserts. Nothing waits on purpose: the first insert
goes at once, and those that arrive meanwhile go in the next (``groupcommit``).
"""

from __future__ import annotations

from collections.abc import Sequence

from releasegate.shared.groupcommit import GroupCommit
from releasegate.shared.locks import KeyedLocks
from releasegate.shared.store.base import Collection, Doc


class BatchedInserts:
    def __init__(self, collection: Collection) -> None:
        self._c = collection
        self._group: GroupCommit[Doc, bool] = GroupCommit(KeyedLocks())

    async def insert(self, doc: Doc) -> bool:
        """True if ``doc`` was inserted; False if a document with one of its unique
        keys was there first."""
        return await self._group.submit(self._c.name, doc, self._write)

    async def _write(self, docs: Sequence[Doc]) -> list[bool]:
        return await self._c.insert_many(list(docs), ignore_duplicates=True)
