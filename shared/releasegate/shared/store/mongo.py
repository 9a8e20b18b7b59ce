"""MongoDB (and FerretDB) adapter on ``pymongo.AsyncMongoClient``.

Connection-level failures become ``StoreUnavailable`` so the bus retries the
handler; a unique-index violation becomes ``DuplicateKey`` (first writer wins).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import (
    AutoReconnect,
    BulkWriteError,
    ConnectionFailure,
    DuplicateKeyError,
    NetworkTimeout,
    NotPrimaryError,
    OperationFailure,
    ServerSelectionTimeoutError,
)

from releasegate.shared.store.base import (
    Collection,
    Doc,
    DuplicateKey,
    Filter,
    IndexSpec,
    Sort,
    StoreUnavailable,
    UpdateOutcome,
)

T = TypeVar("T")
DUPLICATE_KEY_CODE = 11000
ID_BATCH = 10_000  # ids per round trip when streaming a collection's _ids
_TRANSIENT = (
    AutoReconnect,
    ConnectionFailure,
    NetworkTimeout,
    NotPrimaryError,
    ServerSelectionTimeoutError,
)

_UNIQUE_VIOLATION = ("UNIQUE constraint failed", "(SQLSTATE 23505)")


async def _guard(op: Callable[[], Awaitable[T]]) -> T:
    try:
        return await op()
    except DuplicateKeyError as exc:
        raise DuplicateKey(str(exc)) from exc
    except _TRANSIENT as exc:
        raise StoreUnavailable(str(exc)) from exc
    except OperationFailure as exc:
        # FerretDB reports a unique violation by an update as an InternalError: in
        # SQLite's words on SQLite, as SQLSTATE 23505 on PostgreSQL.
        if any(sign in str(exc) for sign in _UNIQUE_VIOLATION):
            raise DuplicateKey(str(exc)) from exc
        raise


class MongoCollection:
    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self._c = collection
        self.name = collection.name

    async def ensure_indexes(self, specs: Sequence[IndexSpec]) -> None:
        for spec in specs:
            await _guard(
                lambda s=spec: self._c.create_index(  # type: ignore[misc]
                    list(s.keys), unique=s.unique, name=s.index_name
                )
            )

    async def insert_one(self, doc: Doc) -> None:
        await _guard(lambda: self._c.insert_one(dict(doc)))

    async def insert_many(
        self, docs: Sequence[Doc], *, ignore_duplicates: bool = False
    ) -> list[bool]:
        if not docs:
            return []  # pymongo refuses an empty batch

        async def run() -> list[bool]:
            inserted = [True] * len(docs)
            try:
                await self._c.insert_many([dict(d) for d in docs], ordered=False)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if exc.details.get("writeConcernErrors") or any(
                    e.get("code") != DUPLICATE_KEY_CODE for e in errors
                ):
                    raise
                if not ignore_duplicates:
                    raise DuplicateKey(str(exc)) from exc
                for e in errors:
                    inserted[e["index"]] = False
            return inserted

        return await _guard(run)

    async def find_one(
        self,
        filter: Filter,
        *,
        projection: Mapping[str, int] | None = None,
        sort: Sort | None = None,
    ) -> Doc | None:
        return await _guard(
            lambda: self._c.find_one(
                dict(filter),
                projection=dict(projection) if projection else None,
                sort=list(sort) if sort else None,
            )
        )

    async def find(
        self,
        filter: Filter,
        *,
        sort: Sort | None = None,
        skip: int = 0,
        limit: int = 0,
        projection: Mapping[str, int] | None = None,
    ) -> list[Doc]:
        async def run() -> list[Doc]:
            cursor = self._c.find(
                dict(filter),
                projection=dict(projection) if projection else None,
                skip=skip,
                limit=limit,
                sort=list(sort) if sort else None,
            )
            return await cursor.to_list()

        return await _guard(run)

    async def ids(self) -> AsyncIterator[Any]:
        try:
            async for doc in self._c.find({}, {"_id": 1}, batch_size=ID_BATCH):
                yield doc["_id"]
        except _TRANSIENT as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def count(self, filter: Filter) -> int:
        return await _guard(lambda: self._c.count_documents(dict(filter)))

    async def update_one(
        self, filter: Filter, update: Mapping[str, Any], *, upsert: bool = False
    ) -> UpdateOutcome:
        result = await _guard(lambda: self._c.update_one(dict(filter), dict(update), upsert=upsert))
        return UpdateOutcome(result.matched_count, result.modified_count, result.upserted_id)

    async def update_many(self, filter: Filter, update: Mapping[str, Any]) -> int:
        result = await _guard(lambda: self._c.update_many(dict(filter), dict(update)))
        return result.modified_count

    async def find_one_and_update(self, filter: Filter, update: Mapping[str, Any]) -> Doc | None:
        return await _guard(
            lambda: self._c.find_one_and_update(
                dict(filter), dict(update), return_document=ReturnDocument.AFTER
            )
        )

    async def delete_one(self, filter: Filter) -> int:
        result = await _guard(lambda: self._c.delete_one(dict(filter)))
        return result.deleted_count

    async def delete_many(self, filter: Filter) -> int:
        result = await _guard(lambda: self._c.delete_many(dict(filter)))
        return result.deleted_count

    async def explain(self, filter: Filter, sort: Sort | None = None) -> dict[str, Any]:
        """The server's query plan (MongoDB: which index serves the query)."""
        cursor = self._c.find(dict(filter), sort=list(sort) if sort else None)
        return await cursor.explain()


class MongoDatabase:
    def __init__(self, url: str, db_name: str, *, timeout_ms: int = 5000) -> None:
        self.client: AsyncMongoClient[Doc] = AsyncMongoClient(
            url,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            retryWrites=True,
            retryReads=True,
            tz_aware=False,
            appname="releasegate",
        )
        self._db = self.client[db_name]

    def collection(self, name: str) -> Collection:
        return MongoCollection(self._db[name])

    async def ping(self) -> bool:
        try:
            await self._db.command("ping")
            return True
        except Exception:  # noqa: BLE001 - readiness is a yes/no question
            return False

    async def close(self) -> None:
        await self.client.close()
