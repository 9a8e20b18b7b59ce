"""A set of strings in fixed memory that may answer "maybe" for a string never added
(at about ``error_rate`` once ``capacity`` strings are in, more beyond), but never "no"
for one that was: the submission service's hint of which items exist."""

from __future__ import annotations

import math
from hashlib import blake2b


class BloomFilter:
    def __init__(self, capacity: int, error_rate: float = 0.01) -> None:
        if capacity < 1 or not 0 < error_rate < 1:
            raise ValueError("capacity >= 1 and 0 < error_rate < 1")
        self._m = max(64, math.ceil(-capacity * math.log(error_rate) / math.log(2) ** 2))
        self._k = max(1, round(self._m / capacity * math.log(2)))
        self._bits = bytearray((self._m + 7) // 8)

    @property
    def size_bytes(self) -> int:
        return len(self._bits)

    def _positions(self, key: str) -> list[int]:
        # Two hashes from one digest, combined k ways (Kirsch and Mitzenmacher): as good
        # as k independent hashes, for one digest per call.
        digest = blake2b(key.encode(), digest_size=16).digest()
        a = int.from_bytes(digest[:8], "little")
        b = int.from_bytes(digest[8:], "little") | 1
        return [(a + i * b) % self._m for i in range(self._k)]

    def add(self, key: str) -> bool:
        """Add ``key``; whether it was news (False: the filter already said "maybe")."""
        news = False
        for p in self._positions(key):
            bit = 1 << (p & 7)
            if not self._bits[p >> 3] & bit:
                self._bits[p >> 3] |= bit
                news = True
        return news

    def __contains__(self, key: str) -> bool:
        return all(self._bits[p >> 3] & (1 << (p & 7)) for p in self._positions(key))
