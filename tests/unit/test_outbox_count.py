"""``outbox_n`` never drifts below the outbox's entries, whoever drains it: the sweep
visits only documents whose count is not 0, so an entry under a count of 0 would
never be published if its writer died."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from releasegate.shared.contracts.envelope import Envelope
from releasegate.shared.contracts.service import SERVICE_TICK, Tick
from releasegate.shared.locks import KeyedLocks
from releasegate.shared.store.base import Collection
from releasegate.shared.store.memory import MemoryDatabase
from releasegate.shared.store.outbox import OutboxRelay, Outgoing, with_outbox
from tests.helpers import RecordingBus


def message(n: int) -> Outgoing:
    env = SERVICE_TICK.envelope(
        Tick(service="test"), project_id="p", workspace_id="w", message_id=f"m{n}"
    )
    return Outgoing(env)


async def store(coll: Collection, doc_id: str, messages: list[Outgoing]) -> None:
    await coll.update_one(
        {"_id": doc_id}, with_outbox({"$set": {"state": "x"}}, messages), upsert=True
    )


async def count_and_entries(coll: Collection, doc_id: str) -> tuple[int, set[str]]:
    doc = await coll.find_one({"_id": doc_id})
    assert doc is not None
    return doc["outbox_n"], set(doc.get("outbox") or {})


class PausingFind:
    """A collection whose ``find`` (the sweep's query) returns only when let go."""

    def __init__(self, inner: Collection) -> None:
        self._inner = inner
        self.found = asyncio.Event()
        self.go = asyncio.Event()

    async def find(self, *a: Any, **kw: Any) -> Any:
        docs = await self._inner.find(*a, **kw)
        self.found.set()
        await self.go.wait()
        return docs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def test_a_sweep_that_drains_a_writers_entries_leaves_the_count_to_the_entries() -> None:
    """The auditor's interleaving, in one process: the sweep finds a document with a
    stale entry, a writer adds one, the sweep drains both, then the writer's fast path
    drains its own again. Its next entry, whose writer dies, is still swept."""
    coll = MemoryDatabase().collection("docs")
    bus, locks = RecordingBus(), KeyedLocks()
    pausing = PausingFind(coll)
    relay = OutboxRelay(pausing, bus, locks)  # type: ignore[arg-type]
    await store(coll, "P", [message(0)])  # a fast path that failed: stale m0
    await coll.update_one({"_id": "P"}, {"$set": {"outbox_at": 0}})

    sweep = asyncio.create_task(relay.sweep())
    await pausing.found.wait()  # the sweep's find has returned the document
    m1 = [message(1)]
    async with locks.hold("P"):  # a writer stores m1 under the lock and releases it
        await store(coll, "P", m1)
    pausing.go.set()
    assert await sweep == 2  # the sweep drains m0 and m1
    assert await relay.drain("P", stored=m1) == 1  # the writer's fast path: m1 again
    assert await count_and_entries(coll, "P") == (0, set())

    await store(coll, "P", [message(2)])  # its writer dies before its fast path
    await coll.update_one({"_id": "P"}, {"$set": {"outbox_at": 0}})
    assert await count_and_entries(coll, "P") == (1, {"m2"})
    assert await relay.sweep() == 1
    assert "m2" in bus.published
    assert await count_and_entries(coll, "P") == (0, set())


class SlowBus(RecordingBus):
    """A bus whose confirms take a random while, so relays interleave."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self._rng = rng

    async def publish(self, envelope: Envelope) -> None:
        await asyncio.sleep(self._rng.random() * 0.002)
        await super().publish(envelope)


async def test_two_processes_draining_one_document_keep_the_count_exact() -> None:
    """Two relays with their own locks (two processes, as during a consumer failover)
    drain one document at the same time, by sweeps, plain drains and fast paths,
    while writers in both add entries: afterwards the count is the number of entries,
    and each entry gone from the outbox was published."""
    for seed in range(40):
        await two_processes(seed)


async def two_processes(seed: int) -> None:
    rng = random.Random(seed)
    coll = MemoryDatabase().collection("docs")
    buses = [SlowBus(rng), SlowBus(rng)]
    locks = [KeyedLocks(), KeyedLocks()]
    relays = [OutboxRelay(coll, bus, lk) for bus, lk in zip(buses, locks, strict=True)]
    await store(coll, "P", [message(n) for n in range(5)])  # left by a crash

    async def writer(n: int) -> None:
        p = n % 2
        await asyncio.sleep(rng.random() * 0.004)
        async with locks[p].hold("P"):
            await store(coll, "P", [message(n)])
        await relays[p].drain("P", stored=[message(n)])

    async def drainer(p: int, how: str) -> None:
        await asyncio.sleep(rng.random() * 0.004)
        if how == "sweep":
            await relays[p].sweep(grace_ms=0)
        else:
            await relays[p].drain("P")

    await asyncio.gather(
        *(writer(n) for n in range(5, 12)),
        *(drainer(p, how) for p in (0, 1) for how in ("sweep", "drain", "sweep")),
    )

    everything = {f"m{i}" for i in range(12)}
    n, entries = await count_and_entries(coll, "P")
    assert n == len(entries), f"seed {seed}: outbox_n {n}, entries {sorted(entries)}"
    assert everything - entries <= set(buses[0].published) | set(buses[1].published)

    await relays[0].sweep(grace_ms=0)  # what is left is swept
    assert await count_and_entries(coll, "P") == (0, set())
    assert set(buses[0].published) | set(buses[1].published) == everything


async def test_a_fast_path_whose_entries_are_gone_takes_nothing_off_the_count() -> None:
    coll = MemoryDatabase().collection("docs")
    relay = OutboxRelay(coll, RecordingBus(), KeyedLocks())
    await store(coll, "P", [message(1), message(2)])
    assert await relay.drain("P") == 2  # another relay took them
    await store(coll, "P", [message(3)])

    assert await relay.drain("P", stored=[message(1), message(2)]) == 2

    assert await count_and_entries(coll, "P") == (1, {"m3"})


async def test_a_fast_path_some_of_whose_entries_are_gone_counts_off_the_rest() -> None:
    coll = MemoryDatabase().collection("docs")
    relay = OutboxRelay(coll, RecordingBus(), KeyedLocks())
    await store(coll, "P", [message(1), message(2), message(3)])
    await coll.update_one({"_id": "P"}, {"$unset": {"outbox.m1": ""}, "$inc": {"outbox_n": -1}})

    await relay.drain("P", stored=[message(1), message(2)])

    assert await count_and_entries(coll, "P") == (1, {"m3"})


async def test_a_plain_drain_heals_a_count_left_off() -> None:
    """Counts an older relay left wrong: too high (a message stored twice), and too
    low to be swept (a negative count plus a new entry)."""
    coll = MemoryDatabase().collection("docs")
    bus = RecordingBus()
    relay = OutboxRelay(coll, bus, KeyedLocks())
    await store(coll, "hi", [message(1)])
    await store(coll, "hi", [message(1)])
    await coll.insert_one({"_id": "lo", "outbox": {}, "outbox_n": -1, "outbox_at": 0})
    await store(coll, "lo", [message(2)])
    assert await count_and_entries(coll, "hi") == (2, {"m1"})
    assert await count_and_entries(coll, "lo") == (0, {"m2"})

    assert await relay.drain("hi") == 1
    assert await relay.drain("lo") == 1

    assert await count_and_entries(coll, "hi") == (0, set())
    assert await count_and_entries(coll, "lo") == (0, set())
    assert bus.published == ["m1", "m2"]


class CountingCollection:
    """Counts reads and writes of a collection (the benchmarks count commands)."""

    def __init__(self, inner: Collection) -> None:
        self._inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name in ("find", "find_one", "update_one", "update_many", "find_one_and_update"):

            async def counted(*a: Any, **kw: Any) -> Any:
                self.calls.append(name)
                return await attr(*a, **kw)

            return counted
        return attr


async def test_the_normal_paths_need_no_more_commands() -> None:
    inner = MemoryDatabase().collection("docs")
    coll = CountingCollection(inner)
    relay = OutboxRelay(coll, RecordingBus(), KeyedLocks())  # type: ignore[arg-type]
    stored = [message(n) for n in range(100)]
    await store(inner, "P", stored)
    assert await relay.drain("P", stored=stored) == 100
    assert coll.calls == ["update_one"]

    coll.calls.clear()
    await store(inner, "P", stored)
    assert await relay.drain("P") == 100
    assert coll.calls == ["find_one", "find_one", "update_one"]
    assert await count_and_entries(inner, "P") == (0, set())
