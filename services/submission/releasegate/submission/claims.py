"""Whether an item is new, known without reading it.

Reading the item was the one single round trip of every submission: at 64 events in
flight it cost more than the three batched inserts together, and FerretDB cannot
batch reads by ``_id`` (it pushes no ``$in`` down). Most upstream events in a burst
are about items never seen before, so each key is *claimed* instead: a document
``{_id: item key}`` inserted, in batches, before anything of the item is written.

- The invariant: an item is written only after its claim is stored, and claims are
  never deleted. So a claim that goes in proves that no item exists; one that hits
  the unique ``_id`` says the item may exist (an earlier attempt may have died before
  writing it), and the item is read.
- A duplicate in a batch is dear on FerretDB: it falls back to one insert per document
  for the whole batch (0.8 ms of CPU each, against 0.04 ms). So keys go the
  claim way only where a Bloom filter of the claimed keys says they were never
  claimed; the others are read, as before, and claimed only if missing.
  The filter is a hint: a wrong answer costs time, never correctness.
- Items stored before claims existed are claimed once, before the service consumes
  (``backfill``: 18.6 s for 100,000 items on FerretDB 1.24). Upgrading a deployment
  whose items predate claims: stop the old submission replicas first, since one still
  running would write items without claims.
- The filter is built in the background (``learn``: 3.8 s per 100,000 claims), so
  readiness does not wait for it; until it is built, every item is read, and claimed
  if missing, as when the filter says "maybe".
- A claim the filter did not expect to collide shows another process has been claiming
  keys: the replica that was active while this one stood by, since this one learnt its
  filter. Each such key would cost a collision (a slow batch) once, so the filter is
  learnt again in the background (``keep_learnt``), at most once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from enum import Enum

from releasegate.shared.bloom import BloomFilter
from releasegate.shared.runtime import until_done
from releasegate.shared.store.base import Collection
from releasegate.shared.store.batched import BatchedInserts

log = logging.getLogger("releasegate.submission")

CLAIMS = "submission_item_claims"  # read and written by _id only
# Marks the one-time claiming of older items; item keys all contain "/".
BACKFILLED = "#items-claimed"
BACKFILL_BATCH = 1_000
RELEARN_EVERY_S = 60.0  # the most often the filter is learnt again, however many surprises


class Claim(Enum):
    NEW = "new"  # claimed now: no item exists
    SEEN = "seen"  # claimed before: the item may exist
    UNKNOWN = "unknown"  # not tried (no filter yet, or it says "maybe"): read the item


class ItemClaims:
    def __init__(
        self,
        claims: Collection,
        items: Collection,
        capacity: int,
        relearn_every_s: float = RELEARN_EVERY_S,
    ) -> None:
        self._claims = claims
        self._items = items
        self._inserts = BatchedInserts(claims)
        self._capacity = capacity
        self._relearn_every_s = relearn_every_s
        self._hint: BloomFilter | None = None  # None until learnt
        self._learning: BloomFilter | None = None  # the one being built
        # Set when a claim collides where the filter said "never claimed".
        self._surprised = asyncio.Event()

    async def backfill(self) -> None:
        """Startup, before consuming: claim the items stored before claims existed
        (once; a mark records it)."""
        if await self._claims.find_one({"_id": BACKFILLED}) is not None:
            return
        started, count = time.monotonic(), 0
        batch: list[dict[str, str]] = []
        async for key in self._items.ids():
            batch.append({"_id": key})
            count += 1
            if len(batch) == BACKFILL_BATCH:
                await self._claims.insert_many(batch, ignore_duplicates=True)
                batch = []
        await self._claims.insert_many([*batch, {"_id": BACKFILLED}], ignore_duplicates=True)
        log.info(
            "older items claimed",
            extra={"items": count, "s": round(time.monotonic() - started, 2)},
        )

    async def keep_learnt(self, stop: asyncio.Event) -> None:
        """Background job: learn the filter, then learn it again after a surprise
        (stopping the service cancels it)."""
        await self.learn()
        while True:
            await self._surprised.wait()
            await self.relearn()
            await asyncio.sleep(self._relearn_every_s)

    async def learn(self) -> None:
        """Build the filter from every claim (retried while the database is away),
        then use it."""
        started = time.monotonic()
        hint = BloomFilter(self._capacity)
        self._learning = hint  # keys claimed meanwhile go in too
        count, _ = await self._scan_into(hint)
        self._hint, self._learning = hint, None
        log.info(
            "item claims learnt",
            extra={
                "claims": count,
                "filter_bytes": hint.size_bytes,
                "s": round(time.monotonic() - started, 2),
            },
        )

    async def relearn(self) -> None:
        """Add every claim to the filter in use: the keys another process claimed
        since this one learnt it."""
        assert self._hint is not None, "learnt first"
        self._surprised.clear()  # a surprise during the scan asks for another one
        started = time.monotonic()
        count, unseen = await self._scan_into(self._hint)
        log.info(
            "item claims learnt again",
            extra={"claims": count, "unseen": unseen, "s": round(time.monotonic() - started, 2)},
        )

    async def _scan_into(self, hint: BloomFilter) -> tuple[int, int]:
        """Add every claim to ``hint``: how many there are, and how many it lacked."""
        count = unseen = 0

        async def scan() -> None:
            nonlocal count, unseen
            count = unseen = 0  # a retry scans again from the start
            async for key in self._claims.ids():
                if key != BACKFILLED:
                    unseen += hint.add(key)
                    count += 1

        await until_done(scan, "submission")
        return count, unseen

    async def claim_if_unseen(self, key: str) -> Claim:
        """Claim ``key`` if the filter says it never was (the filter built, the key
        not in it); else ``UNKNOWN``, without a round trip."""
        if self._hint is None or key in self._hint:
            return Claim.UNKNOWN
        inserted = await self._inserts.insert({"_id": key})
        self._hint.add(key)
        if not inserted:
            self._surprised.set()  # another process claims keys: learn them
            return Claim.SEEN
        return Claim.NEW

    async def claim(self, key: str) -> None:
        """Make sure ``key`` is claimed (before its item is first written)."""
        await self._inserts.insert({"_id": key})
        for hint in (self._hint, self._learning):
            if hint is not None:
                hint.add(key)
