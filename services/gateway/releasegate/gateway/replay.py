"""Signatures already used: an AK/SK request is accepted once.

Each accepted signature is inserted under the primary unique index; a second insert
of the same signature loses (first writer wins, also across gateway replicas). A
signature only needs remembering while its X-Sdk-Date is inside the accepted window,
so records carry ``expires_at`` and expired ones are deleted on write, at most once a
minute per gateway (no TTL index: FerretDB 1.24 has none).
"""

from __future__ import annotations

from releasegate.shared.clock import Clock
from releasegate.shared.store.base import Database, DuplicateKey, IndexSpec

SEEN_SIGNATURES = "gateway_seen_signatures"
SEEN_INDEXES = [IndexSpec((("expires_at", 1),), name="expiry")]
CLEANUP_EVERY_MS = 60_000


class SeenSignatures:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._docs = db.collection(SEEN_SIGNATURES)
        self._clock = clock
        self._last_cleanup_ms = 0

    async def ensure_indexes(self) -> None:
        await self._docs.ensure_indexes(SEEN_INDEXES)

    async def first_use(self, signature: str, expires_at_ms: int) -> bool:
        """True the first time ``signature`` is presented, False for a replay."""
        await self._cleanup()
        try:
            await self._docs.insert_one({"_id": signature, "expires_at": expires_at_ms})
        except DuplicateKey:
            return False
        return True

    async def _cleanup(self) -> None:
        now = self._clock.now_ms()
        if now - self._last_cleanup_ms < CLEANUP_EVERY_MS:
            return
        self._last_cleanup_ms = now
        await self._docs.delete_many({"expires_at": {"$lt": now}})
