"""Deploying one task: apply it to the target (retrying transient errors with
backoff), start it when asked, record the outcome once, then announce it.

The work item itself is the durable trigger of the announcement: it is acknowledged
only after ``subtask.finished`` is confirmed, and a redelivery that finds the outcome
recorded announces that stored outcome again (same message id). So the outcome needs
no outbox, and the announcement never disagrees with it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from releasegate.deployer import domain
from releasegate.deployer.deps import Deps
from releasegate.deployer.targets.base import Applied, TargetError, TransientTargetError
from releasegate.shared.bus.base import Message
from releasegate.shared.contracts.deploy import SUBTASK_FINISHED, DeployTask, SubtaskFinished
from releasegate.shared.contracts.envelope import Envelope
from releasegate.shared.ids import stable_id
from releasegate.shared.readmodels.codes import (
    FAILED,
    RELEASING,
    START_FAILED,
    START_NOT_STARTED,
    START_RUNNING,
    START_SUCCEEDED,
    SUCCESSFUL,
)
from releasegate.shared.readmodels.packages import subtask_id, subtask_outcome

log = logging.getLogger("releasegate.deployer")
WORKER = f"{socket.gethostname()}:{os.getpid()}"
T = TypeVar("T")


async def deploy_task(msg: Message[DeployTask], deps: Deps) -> None:
    t = msg.payload
    subtask = subtask_id(t.package_id, t.pending_item_id)
    async with deps.locks.hold(subtask):
        # Independent reads share a round trip; the content goes unused only when an
        # earlier delivery finished the task (a redelivery, rare).
        outcome, content = await asyncio.gather(
            deps.store.outcome(subtask, t.package_id),
            deps.store.content(t.package_id, t.pending_item_id),
        )
        if outcome is not None:
            log.info("already deployed; re-announcing", extra={"subtask": subtask})
        else:
            outcome = await _deploy(subtask, t, content, deps)
            if await deps.store.record_outcome(subtask, outcome):
                _log_outcome(subtask, outcome, deps)
            else:
                # A duplicate delivery on another worker recorded first: its outcome
                # stands, and is the one announced.
                log.info(
                    "a duplicate delivery finished first; its outcome stands",
                    extra={"subtask": subtask},
                )
                outcome = await deps.store.outcome(subtask, t.package_id)
                assert outcome is not None
    await deps.bus.publish(_finished(subtask, outcome, msg.envelope, t))


async def _deploy(subtask: str, t: DeployTask, content: Any, deps: Deps) -> dict[str, Any]:
    """Deploy (and start); the outcome to record."""
    started = deps.clock.now_ms()
    scope = {"package_id": t.package_id, "pending_item_id": t.pending_item_id}

    def note(deploy_status: int, start_status: int) -> Callable[[], Awaitable[None]]:
        return lambda: deps.store.record_progress(
            subtask,
            {
                **scope,
                "deploy_status": deploy_status,
                "start_job_status": start_status,
                "updated_at": deps.clock.now_ms(),
                "worker": WORKER,
            },
        )

    start, reason, applied = START_NOT_STARTED, "", Applied()
    try:
        applied = await _noted(
            _with_retries(lambda: deps.target.deploy(t, content), deps, "deploy"),
            note(RELEASING, START_NOT_STARTED),
            deps,
        )
        status = SUCCESSFUL
    except TargetError as exc:
        status, reason = FAILED, f"deploy failed: {exc}"
    if status == SUCCESSFUL and domain.wants_start(t):
        try:
            await _noted(
                _with_retries(lambda: deps.target.start(t), deps, "start"),
                note(SUCCESSFUL, START_RUNNING),
                deps,
            )
            start = START_SUCCEEDED
        except TargetError as exc:
            start, reason = START_FAILED, f"start failed: {exc}"
    return subtask_outcome(
        package_id=t.package_id,
        pending_item_id=t.pending_item_id,
        asy_task_id=t.asy_task_id,
        item_name=t.item_name,
        deploy_status=status,
        start_job_status=start,
        reason=reason,
        rollback=applied.rollback,
        previous_version=applied.previous_version,
        started_at=started,
        finished_at=deps.clock.now_ms(),
        worker=WORKER,
    )


async def _noted(step: Awaitable[T], note: Callable[[], Awaitable[None]], deps: Deps) -> T:
    """Run ``step``; once it has taken ``progress_note_after_s``, write its progress
    note while it goes on. A step that ends sooner leaves no note (a poll would hardly
    have seen it in flight), which spares a database write per task."""
    running = asyncio.ensure_future(step)
    try:
        if deps.progress_note_after_s > 0:
            await asyncio.wait({running}, timeout=deps.progress_note_after_s)
        if not running.done():
            await note()
        return await running
    finally:
        running.cancel()  # a no-op once it is done; stops it if the note failed


def _finished(subtask: str, outcome: dict[str, Any], parent: Envelope, t: DeployTask) -> Envelope:
    return SUBTASK_FINISHED.envelope(
        SubtaskFinished(
            package_id=t.package_id,
            pending_item_id=t.pending_item_id,
            item_key=t.item_key,
            version=t.version,
            update_type=t.update_type,
            deploy_status=outcome["deploy_status"],
            start_job_status=outcome["start_job_status"],
            reason=outcome["reason"],
            rollback=outcome["rollback"],
        ),
        project_id=parent.project_id,
        workspace_id=parent.workspace_id,
        parent=parent,
        message_id=stable_id("subtask.finished", subtask),
    )


def _log_outcome(subtask: str, outcome: dict[str, Any], deps: Deps) -> None:
    log.info(
        "task deployed" if outcome["deploy_status"] == SUCCESSFUL else "task failed",
        extra={
            "subtask": subtask,
            "target": deps.target.name,
            "reason": outcome["reason"],
            "rollback": outcome["rollback"],
        },
    )


async def _with_retries(op: Callable[[], Awaitable[T]], deps: Deps, what: str) -> T:
    """Transient errors are retried with exponential backoff and jitter, up to
    ``target_attempts``; then the last error ends the task."""
    for attempt in range(deps.attempts):
        try:
            return await op()
        except TransientTargetError as exc:
            if attempt + 1 >= deps.attempts:
                raise TargetError(f"{exc} (gave up after {deps.attempts} attempts)") from exc
            delay = domain.backoff_s(attempt, deps.backoff_s, deps.backoff_max_s, deps.rng)
            log.warning(
                "target unavailable; retrying",
                extra={
                    "what": what,
                    "attempt": attempt + 1,
                    "delay_s": round(delay, 3),
                    "error": str(exc),
                },
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
