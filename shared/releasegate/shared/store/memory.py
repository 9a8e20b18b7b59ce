"""In-memory collections for embedded mode and unit tests. They pass the same
contract tests as MongoDB and FerretDB (tests/contract/test_store_contract.py)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from releasegate.shared.store.base import (
    Collection,
    Doc,
    DuplicateKey,
    Filter,
    IndexSpec,
    Sort,
    UpdateOutcome,
)
from releasegate.shared.store.query import (
    apply_update,
    equality_fields,
    get_path,
    matches,
    project,
    sort_key,
)


class MemoryCollection:
    def __init__(self, name: str) -> None:
        self.name = name
        self._docs: dict[Any, Doc] = {}
        self._unique: list[IndexSpec] = [IndexSpec((("_id", 1),), unique=True, name="_id_")]
        self.indexes: list[IndexSpec] = []
        # One writer at a time: every operation is atomic per document, like MongoDB's.
        self._lock = asyncio.Lock()

    async def ensure_indexes(self, specs: Sequence[IndexSpec]) -> None:
        for spec in specs:
            if spec not in self.indexes:
                self.indexes.append(spec)
                if spec.unique:
                    self._unique.append(spec)

    def _key(self, spec: IndexSpec, doc: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for field, _ in spec.keys:
            values = get_path(doc, field)
            out.append(_freeze(values[0]) if values else None)
        return tuple(out)

    def _check_unique(self, doc: Mapping[str, Any], ignore_id: Any = None) -> None:
        for spec in self._unique:
            key = self._key(spec, doc)
            for other_id, other in self._docs.items():
                if other_id != ignore_id and self._key(spec, other) == key:
                    raise DuplicateKey(f"E11000 duplicate key {spec.index_name}: {key}")

    def _insert(self, doc: Doc) -> None:
        if "_id" not in doc:
            raise ValueError("documents carry their own _id")
        self._check_unique(doc)
        self._docs[doc["_id"]] = copy.deepcopy(doc)

    async def insert_one(self, doc: Doc) -> None:
        async with self._lock:
            self._insert(doc)

    async def insert_many(
        self, docs: Sequence[Doc], *, ignore_duplicates: bool = False
    ) -> list[bool]:
        duplicates, inserted = [], []
        async with self._lock:
            for doc in docs:
                try:
                    self._insert(doc)
                    inserted.append(True)
                except DuplicateKey as exc:
                    duplicates.append(exc)
                    inserted.append(False)
        if duplicates and not ignore_duplicates:
            raise duplicates[0]
        return inserted

    async def find_one(
        self,
        filter: Filter,
        *,
        projection: Mapping[str, int] | None = None,
        sort: Sort | None = None,
    ) -> Doc | None:
        found = await self.find(filter, sort=sort, limit=1, projection=projection)
        return found[0] if found else None

    def _select(self, filter: Filter) -> list[Doc]:
        if set(filter) == {"_id"} and not isinstance(filter["_id"], Mapping):
            doc = self._docs.get(filter["_id"])
            return [doc] if doc is not None else []
        return [d for d in self._docs.values() if matches(d, filter)]

    async def find(
        self,
        filter: Filter,
        *,
        sort: Sort | None = None,
        skip: int = 0,
        limit: int = 0,
        projection: Mapping[str, int] | None = None,
    ) -> list[Doc]:
        docs = self._select(filter)
        if sort:
            docs.sort(key=sort_key(sort))
        docs = docs[skip:]
        if limit:
            docs = docs[:limit]
        return [project(d, projection) for d in docs]

    async def ids(self) -> AsyncIterator[Any]:
        for key in list(self._docs):  # a snapshot: the caller may write meanwhile
            yield key

    async def count(self, filter: Filter) -> int:
        return len(self._select(filter))

    async def update_one(
        self, filter: Filter, update: Mapping[str, Any], *, upsert: bool = False
    ) -> UpdateOutcome:
        async with self._lock:
            found = self._select(filter)
            if found:
                _, changed = self._update(found[0], update)
                return UpdateOutcome(1, int(changed))
            if not upsert:
                return UpdateOutcome(0, 0)
            doc = copy.deepcopy(equality_fields(filter))
            apply_update(doc, update, inserting=True)
            if "_id" not in doc:
                raise ValueError("upserts must name the _id")
            self._check_unique(doc)
            self._docs[doc["_id"]] = doc
            return UpdateOutcome(0, 0, doc["_id"])

    async def find_one_and_update(self, filter: Filter, update: Mapping[str, Any]) -> Doc | None:
        async with self._lock:
            found = self._select(filter)
            if not found:
                return None
            updated, _ = self._update(found[0], update)
            return copy.deepcopy(updated)

    def _update(self, current: Doc, update: Mapping[str, Any]) -> tuple[Doc, bool]:
        """Apply ``update`` to a stored document (under the lock); it, and whether it
        changed."""
        candidate = copy.deepcopy(current)
        if not apply_update(candidate, update, inserting=False):
            return current, False
        self._check_unique(candidate, ignore_id=current["_id"])
        self._docs[current["_id"]] = candidate
        return candidate, True

    async def update_many(self, filter: Filter, update: Mapping[str, Any]) -> int:
        async with self._lock:
            modified = 0
            for current in self._select(filter):
                candidate = copy.deepcopy(current)
                if apply_update(candidate, update, inserting=False):
                    self._check_unique(candidate, ignore_id=current["_id"])
                    self._docs[current["_id"]] = candidate
                    modified += 1
            return modified

    async def delete_one(self, filter: Filter) -> int:
        async with self._lock:
            found = self._select(filter)
            if not found:
                return 0
            del self._docs[found[0]["_id"]]
            return 1

    async def delete_many(self, filter: Filter) -> int:
        async with self._lock:
            found = self._select(filter)
            for doc in found:
                del self._docs[doc["_id"]]
            return len(found)


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


class MemoryDatabase:
    def __init__(self) -> None:
        self._collections: dict[str, MemoryCollection] = {}

    def collection(self, name: str) -> Collection:
        if name not in self._collections:
            self._collections[name] = MemoryCollection(name)
        return self._collections[name]

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None
