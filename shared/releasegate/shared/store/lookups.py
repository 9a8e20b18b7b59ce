"""Lookups by ``_id`` in one collection that pile up while one is in flight go together.

FerretDB pushes no ``$in`` down: ``{_id: {$in: ids}}`` reads the whole collection. So
the documents looked up together are grouped by a field they share that has an index
(``group_field``, e.g. a package's tasks by ``package_id``), and each group is read
with ``{group_field: g, _id: {$in: ids}}``: the server reads that group's documents by
its index and keeps those asked for (measured on FerretDB: 34 of a package's 100
documents in 9 ms, flat from 2,000 to 100,000 documents, against 37-70 ms for 34
lookups by ``_id``). A lone lookup of its group goes by ``_id`` alone, as before.

Nothing waits on purpose (``groupcommit``): the first lookup goes at once, and those
that arrive meanwhile go in the next read, so each caller sees the collection as it
was after it asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from releasegate.shared.groupcommit import GroupCommit
from releasegate.shared.locks import KeyedLocks
from releasegate.shared.store.base import Collection, Doc


class BatchedLookups:
    def __init__(
        self,
        collection: Collection,
        group_field: str,
        projection: Mapping[str, int] | None = None,
    ) -> None:
        self._c = collection
        self._field = group_field
        self._projection = projection
        self._group: GroupCommit[tuple[Any, Any], Doc | None] = GroupCommit(KeyedLocks())

    async def get(self, doc_id: Any, group: Any) -> Doc | None:
        """The document ``doc_id``, whose ``group_field`` is ``group``; None if absent."""
        return await self._group.submit(self._c.name, (doc_id, group), self._read)

    async def _read(self, asks: Sequence[tuple[Any, Any]]) -> list[Doc | None]:
        by_group: dict[Any, list[Any]] = {}
        for doc_id, group in asks:
            by_group.setdefault(group, []).append(doc_id)
        found: dict[Any, Doc] = {}
        for docs in await asyncio.gather(
            *(self._read_group(g, ids) for g, ids in by_group.items())
        ):
            found.update((d["_id"], d) for d in docs)
        return [found.get(doc_id) for doc_id, _ in asks]

    async def _read_group(self, group: Any, ids: list[Any]) -> list[Doc]:
        unique = list(dict.fromkeys(ids))
        if len(unique) == 1:
            doc = await self._c.find_one({"_id": unique[0]}, projection=self._projection)
            return [] if doc is None else [doc]
        return await self._c.find(
            {self._field: group, "_id": {"$in": unique}}, projection=self._projection
        )
