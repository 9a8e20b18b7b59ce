"""Identifiers.

Public ids (pending items, packages, async tasks) are decimal strings of a positive
int64, because the vendor API returns ``package_id`` as a Long. They are made
without coordination: milliseconds since 2020 in the high bits, 22 random bits
below. Inserts use them as ``_id`` under the primary unique index, so the rare
collision is detected and retried by the caller instead of silently merging rows.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid

_EPOCH_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z


def new_numeric_id() -> str:
    ms = time.time_ns() // 1_000_000 - _EPOCH_MS
    return str((ms << 22) | secrets.randbits(22))


def new_message_id() -> str:
    return uuid.uuid4().hex


def stable_id(*parts: str) -> str:
    """A deterministic numeric id for a natural key (same parts, same id)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return str(int.from_bytes(digest[:8], "big") >> 1)
