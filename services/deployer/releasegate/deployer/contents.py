"""The contents a deployer applies, read a package at a time.

A package's items do not change once it is released, so the first of its tasks to
reach this worker reads the contents of all its items in one query, and the others
take theirs from memory: a MongoDB-wire server pays a fixed cost per command, which a
100-task package paid once per task. Tasks of one package that arrive together share
the one read. A few recent packages are kept, within a byte budget (contents may be
up to 2 MiB each); a package too big for the budget serves the tasks waiting for it
and is not kept, so its later tasks read their own item.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from typing import Any

from releasegate.shared.readmodels.packages import package_item_id, package_items
from releasegate.shared.store.base import Collection

Contents = dict[str, Any]  # pending_item_id -> content


class PackageContents:
    def __init__(self, items: Collection, keep: int = 8, budget_bytes: int = 32 << 20) -> None:
        self._items = items
        self._keep = keep
        self._budget = budget_bytes
        self._reads: OrderedDict[str, asyncio.Future[Contents]] = OrderedDict()
        self._sizes: dict[str, int] = {}

    async def content(self, package_id: str, pending_item_id: str) -> Any:
        read = self._reads.get(package_id)
        if read is None:
            read = self._reads[package_id] = asyncio.ensure_future(self._read(package_id))
        else:
            self._reads.move_to_end(package_id)
        try:
            contents = await asyncio.shield(read)  # a cancelled task leaves it to the others
        except BaseException:
            if read.done() and (read.cancelled() or read.exception() is not None):
                self._forget(package_id, read)  # the read failed: the next task reads again
            raise
        if pending_item_id in contents:
            return contents[pending_item_id]
        return await self._read_one(package_id, pending_item_id)

    async def _read(self, package_id: str) -> Contents:
        docs = await package_items(self._items, package_id, with_content=True)
        contents = {d["pending_item_id"]: d.get("content") for d in docs}
        if self._reads.get(package_id) is asyncio.current_task():  # still kept
            self._sizes[package_id] = sum(_size(c) for c in contents.values())
            self._trim()
        return contents

    async def _read_one(self, package_id: str, pending_item_id: str) -> Any:
        item = await self._items.find_one(
            {"_id": package_item_id(package_id, pending_item_id)}, projection={"content": 1}
        )
        return item.get("content") if item else None

    def _trim(self) -> None:
        """Drop the oldest packages read until the kept ones fit ``keep`` and the budget."""
        while self._reads and (
            len(self._reads) > self._keep or sum(self._sizes.values()) > self._budget
        ):
            oldest = next(iter(self._reads))
            self._forget(oldest, self._reads[oldest])

    def _forget(self, package_id: str, read: asyncio.Future[Contents]) -> None:
        if self._reads.get(package_id) is read:
            del self._reads[package_id]
            self._sizes.pop(package_id, None)


def _size(content: Any) -> int:
    if content is None:
        return 0
    if isinstance(content, str):
        return len(content)
    return len(json.dumps(content, default=str))
