"""Review handlers and their table (packages, approvals, revoke: the review issue)."""

from __future__ import annotations

from dataclasses import dataclass

from releasegate.shared.bus.base import Handler
from releasegate.shared.clock import Clock
from releasegate.shared.locks import KeyedLocks


@dataclass(frozen=True)
class Deps:
    locks: KeyedLocks
    clock: Clock


def handler_table(deps: Deps) -> dict[str, Handler]:
    """Every message type the review service handles -> its handler."""
    return {}
