"""The store layer: the small subset of MongoDB every repository uses, as a protocol
with two adapters (PyMongo async, in-memory). Only operations that MongoDB 7 and
FerretDB 1.24 both do atomically are in it: single-document writes, unique indexes,
$set/$inc/$unset/$push/$addToSet, dotted and $regex queries, sort/limit.
Not $elemMatch: FerretDB 1.24 rejects field conditions inside it and evaluates
operator conditions across different elements (tests/contract shows the gap).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Doc = dict[str, Any]
Filter = Mapping[str, Any]
Sort = Sequence[tuple[str, int]]


class DuplicateKey(Exception):
    """An insert or upsert hit a unique index: someone else wrote first."""


class StoreUnavailable(ConnectionError):
    """The database cannot be reached right now; the operation may be retried."""


@dataclass(frozen=True)
class IndexSpec:
    keys: tuple[tuple[str, int], ...]
    unique: bool = False
    name: str | None = None

    @property
    def index_name(self) -> str:
        return self.name or "_".join(f"{k}_{d}" for k, d in self.keys)


@dataclass(frozen=True)
class UpdateOutcome:
    matched: int
    modified: int
    upserted_id: Any = None


class Collection(Protocol):
    name: str

    async def ensure_indexes(self, specs: Sequence[IndexSpec]) -> None: ...
    async def insert_one(self, doc: Doc) -> None: ...
    async def insert_many(
        self, docs: Sequence[Doc], *, ignore_duplicates: bool = False
    ) -> list[bool]:
        """Insert in one round trip, unordered: a document that hits a unique index
        does not stop the others. It is skipped if ``ignore_duplicates``, else
        ``DuplicateKey`` is raised once the others are in. One flag per document:
        inserted, or skipped."""

    async def find_one(
        self,
        filter: Filter,
        *,
        projection: Mapping[str, int] | None = None,
        sort: Sort | None = None,
    ) -> Doc | None: ...
    async def find(
        self,
        filter: Filter,
        *,
        sort: Sort | None = None,
        skip: int = 0,
        limit: int = 0,
        projection: Mapping[str, int] | None = None,
    ) -> list[Doc]: ...
    def ids(self) -> AsyncIterator[Any]:
        """Every document's ``_id``, streamed in batches (a whole collection may not
        fit in memory as documents)."""
        ...

    async def count(self, filter: Filter) -> int: ...
    async def update_one(
        self, filter: Filter, update: Mapping[str, Any], *, upsert: bool = False
    ) -> UpdateOutcome: ...
    async def update_many(self, filter: Filter, update: Mapping[str, Any]) -> int: ...
    async def find_one_and_update(self, filter: Filter, update: Mapping[str, Any]) -> Doc | None:
        """Update one document and return it as updated; None if none matched. One
        round trip, but not atomic against a concurrent writer on FerretDB: callers
        serialise the writes of a document (see docs/messaging.md, *One writer per aggregate*)."""

    async def delete_one(self, filter: Filter) -> int: ...
    async def delete_many(self, filter: Filter) -> int: ...


class Database(Protocol):
    def collection(self, name: str) -> Collection: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...
