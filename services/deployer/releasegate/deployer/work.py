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
    async with deps.locks.hold(subtask_id):
        done = await deps.store.get(subtask_id)
        # Done means the outcome was stored (``finished_at``, written with its
        # announcement): SUCCESSFUL alone may be the "deployed, now starting" step
        # of a worker killed before the start; that task must run again, or its
        # outcome would never be announced and the package would never finish.
        if done is not None and "finished_at" in done:
            log.info("already deployed; re-announcing", extra={"subtask": subtask_id})
        else:
            await _deploy(subtask_id, msg, deps)
    await deps.relay.drain(subtask_id)


async def _deploy(subtask_id: str, msg: Message[DeployTask], deps: Deps) -> None:
    t = msg.payload
    now = deps.clock.now_ms()
    await deps.store.save(
        subtask_id,
        {
            "package_id": t.package_id,
            "asy_task_id": t.asy_task_id,
            "pending_item_id": t.pending_item_id,
            "item_name": t.item_name,
            "deploy_status": RELEASING,
            "start_job_status": START_NOT_STARTED,
            "started_at": now,
            "updated_at": now,
            "worker": WORKER,
            "reason": "",
        },
    )
    start, reason, applied = START_NOT_STARTED, "", Applied()
    try:
        content = await deps.store.content(t.package_id, t.pending_item_id)
        applied = await _with_retries(lambda: deps.target.deploy(t, content), deps, "deploy")
        status = SUCCESSFUL
    except TargetError as exc:
        status, reason = FAILED, f"deploy failed: {exc}"
    if status == SUCCESSFUL and domain.wants_start(t):
        await deps.store.save(
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
    await deps.store.save(
        subtask_id,
        {
            "deploy_status": status,
            "start_job_status": start,
            "reason": reason,
            "rollback": applied.rollback,
            "previous_version": applied.previous_version,
            "finished_at": end,
            "updated_at": end,
        },
        [Outgoing(finished)],
    )
    log.info(
        "task deployed" if status == SUCCESSFUL else "task failed",
        extra={
            "subtask": subtask_id,
            "target": deps.target.name,
            "reason": reason,
            "rollback": applied.rollback,
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
