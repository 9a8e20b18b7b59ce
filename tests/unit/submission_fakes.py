"""Fakes of the submission's tests: its handlers' dependencies on a memory database."""

from __future__ import annotations

from releasegate.shared.bus.base import Message
from releasegate.shared.clock import SystemClock
from releasegate.shared.contracts import Envelope
from releasegate.shared.contracts.upstream import VersionSubmitted
from releasegate.shared.locks import KeyedLocks
from releasegate.shared.store.base import Database
from releasegate.shared.store.outbox import OutboxRelay
from releasegate.submission.batches import Inserts
from releasegate.submission.claims import CLAIMS, ItemClaims
from releasegate.submission.deps import Deps
from releasegate.submission.repository import SubmissionStore
from tests.events import version_submitted
from tests.helpers import RecordingBus


def deps_of(db: Database, bus: RecordingBus, store: SubmissionStore | None = None) -> Deps:
    store = store or SubmissionStore(db)
    locks = KeyedLocks()
    return Deps(
        store=store,
        locks=locks,
        tasks_relay=OutboxRelay(store.tasks, bus, locks, lock_field="item_key"),  # type: ignore[arg-type]
        inserts=Inserts(store),
        claims=ItemClaims(db.collection(CLAIMS), store.items, capacity=10_000),
        bus=bus,  # type: ignore[arg-type]
        clock=SystemClock(),
    )


class Crash(Exception):
    pass


class CrashingBus(RecordingBus):
    """Publishing fails ``fail`` times, then works."""

    def __init__(self, fail: int) -> None:
        super().__init__()
        self.fail = fail

    async def publish(self, envelope: Envelope) -> None:
        if self.fail:
            self.fail -= 1
            raise Crash("broker gone")
        await super().publish(envelope)


def delivery(version: int, name: str = "orders") -> Message[VersionSubmitted]:
    """A ``job.version.submitted`` of item ``name``, as the bus hands it to a handler."""
    raw = {**version_submitted(name, version), "project_id": "p", "workspace_id": "w"}
    envelope = Envelope.model_validate(raw)
    return Message(envelope, VersionSubmitted.model_validate(envelope.payload))


async def claims_ready(deps: Deps) -> None:
    """What the service does at start: older items claimed, then the filter learnt
    (in the background there)."""
    await deps.claims.backfill()
    await deps.claims.learn()
