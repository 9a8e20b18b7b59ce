"""Small helpers shared by the tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from releasegate.shared.contracts import Envelope

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
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
    """A fake bus that records the ids of what is published and sent."""

    def __init__(self) -> None:
        self.published: list[str] = []
        self.sent: list[tuple[str, str]] = []

    async def publish(self, envelope: Envelope) -> None:
        self.published.append(envelope.message_id)

    async def send(self, queue: str, envelope: Envelope) -> None:
        self.sent.append((queue, envelope.message_id))
