"""Small helpers shared by the tests."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import pytest

from releasegate.shared.contracts import Envelope
from releasegate.shared.store.base import Collection
from releasegate.shared.store.memory import MemoryDatabase

T = TypeVar("T")


def server_missing(reason: str) -> NoReturn:
    """A real server a test needs is missing: a failure under CI (``make test`` sets
    CI=true, so a clean clone never passes by skipping), a skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = 10.0,
    interval: float = 0.02,
    what: str = "condition",
) -> T:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` after timeout."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value {last!r}")


class RecordingBus:
    """A fake bus that records the ids of what is published and sent (and the
    published envelopes)."""

    def __init__(self) -> None:
        self.published: list[str] = []
        self.envelopes: list[Envelope] = []
        self.sent: list[tuple[str, str]] = []

    async def publish(self, envelope: Envelope) -> None:
        self.published.append(envelope.message_id)
        self.envelopes.append(envelope)

    async def send(self, queue: str, envelope: Envelope) -> None:
        self.sent.append((queue, envelope.message_id))


class ReadCountingDatabase(MemoryDatabase):
    """A memory database that counts the reads (find, find_one) of each collection."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: Counter[str] = Counter()

    def collection(self, name: str) -> Any:  # reads the way a Collection does
        return _Counted(super().collection(name), name, self.reads)


class _Counted:
    def __init__(self, inner: Collection, name: str, reads: Counter[str]) -> None:
        self._inner, self._name, self._reads = inner, name, reads

    async def find_one(self, *a: Any, **kw: Any) -> Any:
        self._reads[self._name] += 1
        return await self._inner.find_one(*a, **kw)

    async def find(self, *a: Any, **kw: Any) -> Any:
        self._reads[self._name] += 1
        return await self._inner.find(*a, **kw)

    def __getattr__(self, name: str) -> Any:  # writes and the rest, uncounted
        return getattr(self._inner, name)
