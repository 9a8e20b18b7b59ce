"""Upstream events: versions submitted, jobs imported, real-time jobs created."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace

from releasegate.shared.bus.base import Message
from releasegate.shared.contracts.envelope import Envelope
from releasegate.shared.contracts.tasks import (
    TASK_CREATED,
    TASK_SUPERSEDED,
    TaskCreated,
    TaskSnapshot,
    TaskSuperseded,
)
from releasegate.shared.contracts.upstream import JobCreated, JobsImported, VersionSubmitted
from releasegate.shared.ids import stable_id
from releasegate.shared.readmodels.pending_items import STATE_PENDING
from releasegate.shared.store.outbox import outbox_fields
from releasegate.submission import domain
from releasegate.submission.claims import Claim
from releasegate.submission.deps import Deps

log = logging.getLogger("releasegate.submission")


@dataclass(frozen=True)
class Submitted:
    """One version to record, whatever upstream event carried it."""

    item_id: str | None
    item_name: str
    task_type: str
    version: int
    deleted: bool
    content: object
    submitter_id: str
    submitter_name: str
    description: str
    submitted_at: int
    make_task: bool = True


async def submit_version(msg: Message[VersionSubmitted], deps: Deps) -> None:
    p = msg.payload
    await _record(
        msg.envelope,
        Submitted(
            p.item_id,
            p.item_name,
            p.task_type,
            p.version,
            p.deleted,
            p.content,
            p.submitter_id,
            p.submitter_name,
            p.description,
            p.submitted_at,
        ),
        deps,
    )


async def import_jobs(msg: Message[JobsImported], deps: Deps) -> None:
    p = msg.payload
    for job in p.jobs:
        await _record(
            msg.envelope,
            Submitted(
                job.item_id,
                job.item_name,
                "job",
                job.version,
                False,
                job.content,
                p.importer_id,
                p.importer_name,
                p.description,
                p.imported_at,
                make_task=job.status == "submitted",
            ),
            deps,
        )


async def create_job(msg: Message[JobCreated], deps: Deps) -> None:
    # Subjobs of a real-time single-task job are part of its definition: only the
    # job itself becomes a release task.
    p = msg.payload
    await _record(
        msg.envelope,
        Submitted(
            p.item_id,
            p.item_name,
            "job",
            p.version,
            False,
            p.content,
            p.creator_id,
            p.creator_name,
            p.description,
            p.created_at,
        ),
        deps,
    )


async def _record(envelope: Envelope, s: Submitted, deps: Deps) -> None:
    """Store the version, open or update the item's task, announce it, then save the
    item, in that order and under the item's lock.

    The item is the record that the version was handled, so it is written last, after
    the announcement is confirmed. This stands in for an outbox (it saves the two
    writes of one, per event): a crash anywhere before the item is saved leaves the
    upstream message unacknowledged, and its redelivery finds the item unchanged,
    makes the same decision (task ids and message ids derive from the facts), finds
    the task already written and announces it again under the same message id.
    """
    item_id = domain.item_id_for(s.task_type, s.item_name, s.item_id)
    key = domain.item_key(envelope.project_id, envelope.workspace_id, s.task_type, item_id)
    incoming = domain.Incoming(
        s.version,
        s.deleted,
        s.item_name,
        s.submitter_id,
        s.submitter_name,
        s.submitted_at,
        s.description,
    )
    async with deps.locks.hold(key):
        # Storing the version and reading the item are independent: one round trip.
        stored_version = deps.inserts.version(
            {
                "_id": f"{key}@{s.version}",
                "item_key": key,
                "version": s.version,
                "item_name": s.item_name,
                "task_type": s.task_type,
                "deleted": s.deleted,
                "content": s.content,
                "submitter_id": s.submitter_id,
                "submitter_name": s.submitter_name,
                "description": s.description,
                "submitted_at": s.submitted_at,
                "message_id": envelope.message_id,
            }
        )
        _, known = await asyncio.gather(stored_version, _stored_item(key, deps))
        item = known or domain.Item(
            key,
            envelope.project_id,
            envelope.workspace_id,
            s.task_type,
            item_id,
            s.item_name,
            kept_versions=(),
        )
        item = await _trim_versions(item, s.version, deps)
        if not s.make_task:
            await deps.store.save_item(domain.record_deployed(item, s.version))
            return
        decision = domain.decide_version(item, incoming)
        announcement = await _apply(envelope, item, incoming, decision, deps)
        if announcement is not None:
            await deps.bus.publish(announcement)
        after = domain.after_decision(item, incoming, decision)
        if known is None:
            await deps.inserts.item(after)
        else:
            await deps.store.save_item(after)


async def _stored_item(key: str, deps: Deps) -> domain.Item | None:
    """The item as stored, None if new; a new one is claimed before it is written
    (``claims``), and claiming it first spares the read."""
    claim = await deps.claims.claim_if_unseen(key)
    if claim is Claim.NEW:
        return None
    item = await deps.store.get_item(key)
    if item is None and claim is Claim.UNKNOWN:
        await deps.claims.claim(key)
    return item


async def _trim_versions(item: domain.Item, version: int, deps: Deps) -> domain.Item:
    """Keep the newest ``versions_kept`` versions, deleting the others by id: a query on
    the item's versions would scan the whole collection on FerretDB (it pushes down
    only ``_id`` filters), making every submission slower as versions pile up."""
    kept = item.kept_versions
    if kept is None:  # stored before kept_versions existed: learn them once
        kept = tuple(await deps.store.version_numbers(item.key))
    kept, dropped = domain.keep_newest(kept, version, deps.versions_kept)
    for old in dropped:
        await deps.store.delete_version(item.key, old)
    return replace(item, kept_versions=kept)


async def _apply(
    envelope: Envelope,
    item: domain.Item,
    incoming: domain.Incoming,
    decision: domain.Decision,
    deps: Deps,
) -> Envelope | None:
    """Open or update the task; the event that announces it."""
    if isinstance(decision, domain.NoTask):
        log.info("no task", extra={"item_key": item.key, "reason": decision.reason})
        return None
    snapshot = TaskSnapshot(
        pending_item_id=decision.task_id,
        item_key=item.key,
        task_id=item.item_id,
        item_name=incoming.item_name,
        task_type=item.task_type_code,
        update_type=decision.update_type,
        pending_version=incoming.version,
        submit_user_id=incoming.submitter_id,
        submit_user_name=incoming.submitter_name,
        submit_timestamp=incoming.submitted_at,
    )
    fields = {
        "item_name": incoming.item_name,
        "update_type": decision.update_type,
        "pending_version": incoming.version,
        "submit_user_id": incoming.submitter_id,
        "submit_user_name": incoming.submitter_name,
        "submit_timestamp": incoming.submitted_at,
        "description": incoming.description,
        "updated_at": deps.clock.now_ms(),
    }
    # Message ids derive from the facts, so a replay announces the same message again
    # (deduplicated downstream) rather than a second, different one.
    if isinstance(decision, domain.OpenTask):
        event = TASK_CREATED.envelope(
            TaskCreated(task=snapshot),
            project_id=envelope.project_id,
            workspace_id=envelope.workspace_id,
            parent=envelope,
            message_id=stable_id("task.created", decision.task_id, str(incoming.version)),
        )
        inserted = await deps.inserts.task(
            {
                "_id": decision.task_id,
                "project_id": envelope.project_id,
                "workspace_id": envelope.workspace_id,
                "item_key": item.key,
                "task_id": item.item_id,
                "script_id": item.item_id if item.task_type == "script" else "",
                "task_type": item.task_type_code,
                "deployed_version": item.deployed_version,
                "package_id": None,
                "state": STATE_PENDING,
                "created_at": deps.clock.now_ms(),
                **fields,
                # An empty outbox: the sweep looks for ``outbox_n != 0``, which a
                # document without the field would match.
                **outbox_fields([]),
            }
        )
        if not inserted:
            # The task is there already: this is a replay (same version, nothing to
            # change), or an older version wrote it and failed before saving the
            # item. That one is retried later and finds the item moved on, so the
            # task must carry this, newer, version now or never.
            await deps.store.catch_up_task(decision.task_id, fields)
    else:
        event = TASK_SUPERSEDED.envelope(
            TaskSuperseded(task=snapshot, previous_version=decision.previous_version),
            project_id=envelope.project_id,
            workspace_id=envelope.workspace_id,
            parent=envelope,
            message_id=stable_id("task.superseded", decision.task_id, str(incoming.version)),
        )
        await deps.store.update_task(decision.task_id, fields, [])
    return event
