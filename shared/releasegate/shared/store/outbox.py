"""Transactional outbox inside the aggregate's own document.

A state change and the messages it announces are written in one single-document
update: ``outbox.<message_id>`` holds each message and ``outbox_n`` counts them.
The relay publishes each one, then removes it with ``$unset`` (guarded by
``$exists`` so a second relay does not count it twice). If the process dies in
between, the periodic sweep (``outbox_n > 0``, indexed) publishes it later: the
message may go out twice, never zero times, and consumers dedupe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from releasegate.shared.bus.base import Bus
from releasegate.shared.contracts import Envelope
from releasegate.shared.locks import KeyedLocks
from releasegate.shared.store.base import Collection, IndexSpec

log = logging.getLogger("releasegate.outbox")

OUTBOX_INDEX = IndexSpec((("outbox_n", 1),), name="outbox_pending")


@dataclass(frozen=True)
class Outgoing:
    """A message to announce: an event (topic exchange) or, with ``queue``, a command
    or work item sent straight to that queue."""

    envelope: Envelope
    queue: str | None = None


def with_outbox(update: dict[str, Any], messages: Iterable[Outgoing]) -> dict[str, Any]:
    """Add ``messages`` to an update document so they are stored with the change."""
    items = list(messages)
    if not items:
        return update
    sets = dict(update.get("$set", {}))
    for item in items:
        sets[f"outbox.{item.envelope.message_id}"] = {
            "envelope": item.envelope.model_dump(mode="json"),
            "queue": item.queue,
        }
    incs = dict(update.get("$inc", {}))
    incs["outbox_n"] = incs.get("outbox_n", 0) + len(items)
    return {**update, "$set": sets, "$inc": incs}


def outbox_fields(messages: Iterable[Outgoing]) -> dict[str, Any]:
    """The outbox fields of a document that is being inserted."""
    items = list(messages)
    return {
        "outbox": {
            i.envelope.message_id: {
                "envelope": i.envelope.model_dump(mode="json"),
                "queue": i.queue,
            }
            for i in items
        },
        "outbox_n": len(items),
    }


class OutboxRelay:
    """Publishes a collection's outbox. It writes the aggregate's document, so it takes
    the same lock as the aggregate's other writers: the value of ``lock_field`` in
    the document (the aggregate key), by default its ``_id``."""

    def __init__(
        self, collection: Collection, bus: Bus, locks: KeyedLocks, lock_field: str = "_id"
    ) -> None:
        self._c = collection
        self._bus = bus
        self._locks = locks
        self._lock_field = lock_field

    async def drain(self, doc_id: Any) -> int:
        head = await self._c.find_one({"_id": doc_id}, projection={self._lock_field: 1})
        if not head:
            return 0
        async with self._locks.hold(str(head.get(self._lock_field, doc_id))):
            doc = await self._c.find_one({"_id": doc_id}, projection={"outbox": 1})
            if not doc:
                return 0
            return await self._publish_all(doc)

    async def _publish_all(self, doc: dict[str, Any]) -> int:
        sent = 0
        for message_id, item in dict(doc.get("outbox") or {}).items():
            envelope = Envelope.model_validate(item["envelope"])
            if item.get("queue"):
                await self._bus.send(item["queue"], envelope)
            else:
                await self._bus.publish(envelope)
            await self._c.update_one(
                {"_id": doc["_id"], f"outbox.{message_id}": {"$exists": True}},
                {"$unset": {f"outbox.{message_id}": ""}, "$inc": {"outbox_n": -1}},
            )
            sent += 1
        return sent

    async def sweep(self, batch: int = 500) -> int:
        docs = await self._c.find({"outbox_n": {"$gt": 0}}, projection={"_id": 1}, limit=batch)
        sent = 0
        for doc in docs:
            sent += await self.drain(doc["_id"])
        if sent:
            log.info("outbox sweep published", extra={"collection": self._c.name, "n": sent})
        return sent

    async def run(self, interval_s: float, stop: asyncio.Event) -> None:
        """Sweep until ``stop`` is set; errors are logged and the loop goes on."""
        while not stop.is_set():
            try:
                await self.sweep()
            except Exception:
                log.warning("outbox sweep failed", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
