"""What review handlers get from the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from releasegate.review.domain import Report
from releasegate.review.repository import ReviewStore
from releasegate.shared.bus.base import Bus
from releasegate.shared.clock import Clock
from releasegate.shared.groupcommit import GroupCommit
from releasegate.shared.identity import IdentityStore
from releasegate.shared.locks import KeyedLocks
from releasegate.shared.lru import Lru
from releasegate.shared.store.outbox import OutboxRelay, Outgoing


@dataclass(frozen=True)
class Deps:
    store: ReviewStore
    identity: IdentityStore
    bus: Bus
    locks: KeyedLocks
    relay: OutboxRelay
    clock: Clock
    # Task outcomes of one package, written together (see progress.record_outcomes).
    outcomes: GroupCommit[Report, list[Outgoing] | None]
    rpc_timeout_s: float = 15.0
    creating_timeout_s: float = 60.0
    stuck_after_s: float = 600.0
    # Tasks still to report, per releasing package, as of its last write: a hint that
    # lets the outcome writer stop lingering for reports that will not come.
    remaining: Lru[int] = field(default_factory=lambda: Lru(10_000))
    # The tasks of the packages this process released, as ``package.finished`` lists
    # them: the report that finishes a package need not read them again, on the
    # release's last step (a miss, after a restart, reads them).
    released_items: Lru[list[dict[str, Any]]] = field(default_factory=lambda: Lru(256))
