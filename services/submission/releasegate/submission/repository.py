"""Submission's collections: items (aggregate state), release tasks (read model of
the API's pending items) and job versions (latest N per item)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from releasegate.shared.contracts.tasks import TaskSnapshot
from releasegate.shared.readmodels.pending_items import STATE_PENDING, TASK_INDEXES, TASKS
from releasegate.shared.store.base import Collection, Database, IndexSpec
from releasegate.shared.store.outbox import Outgoing, with_outbox
from releasegate.submission.domain import Item

ITEMS = "submission_items"  # read and written by _id only: no secondary index
VERSIONS = "submission_versions"

VERSION_INDEXES = [
    IndexSpec((("item_key", 1), ("version", -1)), unique=True, name="item_version"),
]


class SubmissionStore:
    def __init__(self, db: Database) -> None:
        self.items: Collection = db.collection(ITEMS)
        self.tasks: Collection = db.collection(TASKS)
        self.versions: Collection = db.collection(VERSIONS)

    async def ensure_indexes(self) -> None:
        await self.tasks.ensure_indexes(TASK_INDEXES)
        await self.versions.ensure_indexes(VERSION_INDEXES)

    # -- versions --------------------------------------------------------
    async def version_numbers(self, key: str) -> list[int]:
        docs = await self.versions.find({"item_key": key}, projection={"version": 1})
        return sorted(int(d["version"]) for d in docs)

    async def delete_version(self, key: str, version: int) -> None:
        await self.versions.delete_one({"_id": f"{key}@{version}"})

    async def get_version(self, key: str, version: int) -> dict[str, Any] | None:
        return await self.versions.find_one({"item_key": key, "version": version})

    # -- items -----------------------------------------------------------
    async def get_item(self, key: str) -> Item | None:
        doc = await self.items.find_one({"_id": key}, projection={"outbox": 0, "outbox_n": 0})
        return None if doc is None else _item(doc)

    async def set_item(self, key: str, fields: dict[str, Any]) -> Item | None:
        """Set some of an item's fields, in one round trip; the item as updated (None if
        there is none). Its writers hold its lock (``Deps.items_locked``)."""
        doc = await self.items.find_one_and_update({"_id": key}, {"$set": fields})
        return None if doc is None else _item(doc)

    async def save_item(self, item: Item) -> None:
        await self.items.update_one({"_id": item.key}, {"$set": _item_fields(item)}, upsert=True)

    # -- tasks -----------------------------------------------------------
    async def update_task(
        self,
        task_id: str,
        fields: dict[str, Any],
        events: list[Outgoing],
        history: dict[str, Any] | None = None,
    ) -> None:
        update: dict[str, Any] = {"$set": fields}
        if history is not None:
            update["$push"] = {"history": history}
        await self.tasks.update_one({"_id": task_id}, with_outbox(update, events))

    async def catch_up_task(self, task_id: str, fields: dict[str, Any]) -> None:
        """Give a pending task ``fields`` if they carry a newer version than it has;
        one at that version already (a replay) or in a package is left alone."""
        await self.tasks.update_one(
            {
                "_id": task_id,
                "state": STATE_PENDING,
                "pending_version": {"$lt": fields["pending_version"]},
            },
            {"$set": fields},
        )

    async def tasks_by_id(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        # One lookup by _id each, together: FerretDB pushes no $in down, so
        # {_id: {$in: ids}} read the whole collection for every package created.
        docs = await asyncio.gather(*(self.get_task(i) for i in dict.fromkeys(ids)))
        return {d["_id"]: d for d in docs if d is not None}

    async def tasks_of_package(self, package_id: str) -> list[dict[str, Any]]:
        return await self.tasks.find({"package_id": package_id}, projection={"outbox": 0})

    async def get_task(self, task_id: str) -> dict[str, Any] | None:
        return await self.tasks.find_one({"_id": task_id}, projection={"outbox": 0})


def _item(doc: dict[str, Any]) -> Item:
    fields = {k: v for k, v in doc.items() if k not in ("_id", "outbox", "outbox_n")}
    kept = fields.pop("kept_versions", None)
    return Item(key=doc["_id"], kept_versions=None if kept is None else tuple(kept), **fields)


def item_doc(item: Item) -> dict[str, Any]:
    """A new item as stored (``Inserts.item``)."""
    return {"_id": item.key, **_item_fields(item)}


def _item_fields(item: Item) -> dict[str, Any]:
    fields = asdict(item)
    fields.pop("key")
    return fields


def snapshot(doc: dict[str, Any]) -> TaskSnapshot:
    return TaskSnapshot(
        pending_item_id=doc["_id"],
        item_key=doc["item_key"],
        task_id=doc["task_id"],
        item_name=doc["item_name"],
        task_type=doc["task_type"],
        update_type=doc["update_type"],
        pending_version=doc["pending_version"],
        submit_user_id=doc["submit_user_id"],
        submit_user_name=doc["submit_user_name"],
        submit_timestamp=doc["submit_timestamp"],
    )
