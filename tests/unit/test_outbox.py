"""The outbox relay: the writer's fast path publishes what it stored without reading
the document back; a plain drain and the sweep publish what a writer left."""

from __future__ import annotations

from releasegate.shared.contracts.service import SERVICE_TICK, Tick
from releasegate.shared.locks import KeyedLocks
from releasegate.shared.store.base import Collection
from releasegate.shared.store.memory import MemoryDatabase
from releasegate.shared.store.outbox import OutboxRelay, Outgoing, with_outbox
from tests.helpers import ReadCountingDatabase, RecordingBus


def message(n: int, queue: str | None = None) -> Outgoing:
    env = SERVICE_TICK.envelope(
        Tick(service="test"), project_id="p", workspace_id="w", message_id=f"m{n}"
    )
    return Outgoing(env, queue)


async def store(coll: Collection, doc_id: str, messages: list[Outgoing]) -> None:
    await coll.update_one(
        {"_id": doc_id}, with_outbox({"$set": {"state": "x"}}, messages), upsert=True
    )


async def test_the_writers_fast_path_publishes_and_clears_without_reading() -> None:
    db, bus = ReadCountingDatabase(), RecordingBus()
    coll = db.collection("docs")
    relay = OutboxRelay(coll, bus, KeyedLocks())  # type: ignore[arg-type]
    stored = [message(1), message(2, queue="deployer.work")]
    await store(coll, "a", stored)

    assert await relay.drain("a", stored=stored) == 2

    assert db.reads["docs"] == 0
    assert bus.published == ["m1"] and bus.sent == [("deployer.work", "m2")]
    doc = await MemoryDatabase.collection(db, "docs").find_one({"_id": "a"})  # uncounted
    assert doc is not None and doc["outbox"] == {} and doc["outbox_n"] == 0
    assert await relay.sweep(grace_ms=0) == 0  # nothing left for the sweep


async def test_entries_the_fast_path_did_not_name_are_left_for_the_sweep() -> None:
    db, bus = ReadCountingDatabase(), RecordingBus()
    coll = db.collection("docs")
    relay = OutboxRelay(coll, bus, KeyedLocks())  # type: ignore[arg-type]
    await store(coll, "a", [message(1)])  # a writer that died before publishing
    await store(coll, "a", [message(2)])

    await relay.drain("a", stored=[message(2)])
    assert bus.published == ["m2"]

    assert await relay.sweep(grace_ms=0) == 1
    assert bus.published == ["m2", "m1"]
    doc = await MemoryDatabase.collection(db, "docs").find_one({"_id": "a"})  # uncounted
    assert doc is not None and doc["outbox"] == {} and doc["outbox_n"] == 0


async def test_an_empty_fast_path_does_nothing() -> None:
    db, bus = ReadCountingDatabase(), RecordingBus()
    coll = db.collection("docs")
    relay = OutboxRelay(coll, bus, KeyedLocks())  # type: ignore[arg-type]
    assert await relay.drain("missing", stored=[]) == 0
    assert db.reads["docs"] == 0 and bus.published == []


async def test_a_message_is_stored_as_one_string() -> None:
    """One value per message: the server decodes the document on every read and write."""
    db = MemoryDatabase()
    coll = db.collection("docs")
    await store(coll, "a", [message(1, queue="deployer.work")])
    doc = await coll.find_one({"_id": "a"})
    assert doc is not None and isinstance(doc["outbox"]["m1"], str)


async def test_the_sweep_publishes_entries_stored_as_documents_before_strings() -> None:
    db, bus = MemoryDatabase(), RecordingBus()
    coll = db.collection("docs")
    relay = OutboxRelay(coll, bus, KeyedLocks())  # type: ignore[arg-type]
    old = message(1, queue="deployer.work")
    entry = {"envelope": old.envelope.model_dump(mode="json"), "queue": old.queue}
    await coll.insert_one({"_id": "a", "outbox": {"m1": entry}, "outbox_n": 1, "outbox_at": 0})

    assert await relay.sweep(grace_ms=0) == 1

    assert bus.sent == [("deployer.work", "m1")]
    doc = await coll.find_one({"_id": "a"})
    assert doc is not None and doc["outbox"] == {} and doc["outbox_n"] == 0
