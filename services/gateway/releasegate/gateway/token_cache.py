"""Tokens already verified, kept until they expire.

A client polling a release sends the same token many times a second; checking its
signature each time cost about half of the gateway's own work per poll. The keys a
token is checked with are fixed for the life of the process (settings), so a token
verified once stays valid until its ``exp`` (with the same leeway as the check), and
only the time window is checked again on a hit. Bounded: least recently used first out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from releasegate.shared.lru import Lru
from releasegate.shared.tokens import LEEWAY_S

MAX_ENTRIES = 4096


class VerifiedTokens:
    def __init__(
        self, max_entries: int = MAX_ENTRIES, now: Callable[[], float] = time.time
    ) -> None:
        self._entries: Lru[dict[str, Any]] = Lru(max_entries)
        self._now = now  # the clock PyJWT checks exp and nbf with

    def claims(self, token: str, verify: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
        """The token's claims: from memory while it is within its time window, else
        from ``verify`` (which raises for a bad token; nothing is kept then)."""
        hit = self._entries.get(token)
        if hit is not None and self._in_window(hit):
            return hit
        self._entries.discard(token)
        claims = verify(token)
        self._entries.put(token, claims)
        return claims

    def _in_window(self, claims: dict[str, Any]) -> bool:
        now = self._now()
        return bool(
            now < float(claims["exp"]) + LEEWAY_S and now >= float(claims.get("nbf", 0)) - LEEWAY_S
        )
