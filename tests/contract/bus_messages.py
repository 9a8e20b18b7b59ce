"""Messages and a recording handler for the bus tests (contract and integration)."""

from __future__ import annotations

from typing import Any

from releasegate.shared.bus.base import Message
from releasegate.shared.contracts.upstream import (
    JOB_CREATED,
    JOBS_IMPORTED,
    VERSION_SUBMITTED,
    JobCreated,
    JobsImported,
    VersionSubmitted,
)


def version_event(version: int = 1, **extra: Any) -> Any:
    payload = VersionSubmitted(
        item_name="job_a",
        task_type="job",
        version=version,
        content={"n": version},
        submitter_id="u1",
        submitter_name="dev",
        submitted_at=1,
    )
    return VERSION_SUBMITTED.envelope(payload, project_id="p", workspace_id="w", **extra)


def imported_event() -> Any:
    payload = JobsImported(
        jobs=[{"item_name": "j", "version": 1, "content": {}, "status": "submitted"}],
        importer_id="u",
        importer_name="n",
        imported_at=1,
    )
    return JOBS_IMPORTED.envelope(payload, project_id="p", workspace_id="w")


def created_event() -> Any:
    payload = JobCreated(item_name="rt", content={}, creator_id="u", creator_name="n", created_at=1)
    return JOB_CREATED.envelope(payload, project_id="p", workspace_id="w")


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Message[Any]] = []

    async def __call__(self, msg: Message[Any]) -> None:
        self.seen.append(msg)


def routes(handler: Any) -> dict[str, Any]:
    return {c.type: handler for c in (VERSION_SUBMITTED, JOBS_IMPORTED, JOB_CREATED)}


async def at_least(rec: Recorder, n: int) -> bool:
    return len(rec.seen) >= n
