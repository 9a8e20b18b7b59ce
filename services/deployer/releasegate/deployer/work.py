"""Deploying one task: apply it to the target (retrying transient errors with
backoff), start it when asked, record and announce the outcome."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar

from releasegate.deployer import domain
from releasegate.deployer.deps import Deps
from releasegate.deployer.targets.base import Applied, TargetError, TransientTargetError
from releasegate.shared.bus.base import Message
from releasegate.shared.contracts.deploy import SUBTASK_FINISHED, DeployTask, SubtaskFinished
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
from releasegate.shared.store.outbox import Outgoing

log = logging.getLogger("releasegate.deployer")
WORKER = f"{socket.gethostname()}:{os.getpid()}"
T = TypeVar("T")


async def deploy_task(msg: Message[DeployTask], deps: Deps) -> None:
    t = msg.payload
    subtask_id = f"{t.package_id}:{t.pending_item_id}"
    stored: list[Outgoing] | None = None  # None: re-announce whatever is left
    async with deps.locks.hold(subtask_id):
        if await deps.store.outcome(subtask_id) is not None:
            log.info("already deployed; re-announcing", extra={"subtask": subtask_id})
        else:
            stored = await _deploy(subtask_id, msg, deps)
    await deps.relay.drain(subtask_id, stored=stored)


async def _deploy(subtask_id: str, msg: Message[DeployTask], deps: Deps) -> list[Outgoing] | None:
    """Deploy, record the outcome; the announcement stored with it, or None when a
    duplicate delivery's outcome came first."""
    t = msg.payload
    started = deps.clock.now_ms()
    scope = {"package_id": t.package_id, "pending_item_id": t.pending_item_id}
    releasing = deps.store.record_progress(
        subtask_id,
        {
            **scope,
            "deploy_status": RELEASING,
            "start_job_status": START_NOT_STARTED,
            "updated_at": started,
            "worker": WORKER,
        },
    )
    start, reason, applied = START_NOT_STARTED, "", Applied()
    try:
        # Independent: the progress note and reading what to deploy share a round trip.
        _, content = await asyncio.gather(
            releasing, deps.store.content(t.package_id, t.pending_item_id)
        )
        applied = await _with_retries(lambda: deps.target.deploy(t, content), deps, "deploy")
        status = SUCCESSFUL
    except TargetError as exc:
        status, reason = FAILED, f"deploy failed: {exc}"
    if status == SUCCESSFUL and domain.wants_start(t):
        await deps.store.record_progress(
            subtask_id,
            {
                "deploy_status": SUCCESSFUL,
                "start_job_status": START_RUNNING,
                "updated_at": deps.clock.now_ms(),
            },
        )
        try:
            await _with_retries(lambda: deps.target.start(t), deps, "start")
            start = START_SUCCEEDED
        except TargetError as exc:
            start, reason = START_FAILED, f"start failed: {exc}"
    finished = SUBTASK_FINISHED.envelope(
        SubtaskFinished(
            package_id=t.package_id,
            pending_item_id=t.pending_item_id,
            item_key=t.item_key,
            version=t.version,
            update_type=t.update_type,
            deploy_status=status,
            start_job_status=start,
            reason=reason,
            rollback=applied.rollback,
        ),
        project_id=msg.envelope.project_id,
        workspace_id=msg.envelope.workspace_id,
        parent=msg.envelope,
        message_id=stable_id("subtask.finished", subtask_id),
    )
    end = deps.clock.now_ms()
    announcement = [Outgoing(finished)]
    first = await deps.store.record_outcome(
        subtask_id,
        {
            **scope,
            "asy_task_id": t.asy_task_id,
            "item_name": t.item_name,
            "deploy_status": status,
            "start_job_status": start,
            "reason": reason,
            "rollback": applied.rollback,
            "previous_version": applied.previous_version,
            "started_at": started,
            "finished_at": end,
            "updated_at": end,
            "worker": WORKER,
        },
        announcement,
    )
    if not first:
        log.info(
            "a duplicate delivery finished first; its outcome stands", extra={"subtask": subtask_id}
        )
        return None
    log.info(
        "task deployed" if status == SUCCESSFUL else "task failed",
        extra={
            "subtask": subtask_id,
            "target": deps.target.name,
            "reason": reason,
            "rollback": applied.rollback,
        },
    )
    return announcement


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
