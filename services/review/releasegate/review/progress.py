"""Deploy progress: each task's outcome from the deployers, and the package's end."""

from __future__ import annotations

import asyncio
from typing import Any

from releasegate.review import domain
from releasegate.review.deps import Deps
from releasegate.review.repository import audit_entry
from releasegate.shared.bus.base import Message
from releasegate.shared.contracts.deploy import SubtaskFinished
from releasegate.shared.contracts.envelope import Envelope
from releasegate.shared.contracts.packages import PACKAGE_FINISHED, PackageFinished, TaskOutcome
from releasegate.shared.ids import stable_id
from releasegate.shared.readmodels.codes import RELEASING, SUCCESSFUL
from releasegate.shared.readmodels.packages import package_items
from releasegate.shared.store.outbox import Outgoing


async def subtask_finished(msg: Message[SubtaskFinished], deps: Deps) -> None:
    p = msg.payload
    outcome = {
        "deploy_status": p.deploy_status,
        "start_job_status": p.start_job_status,
        "reason": p.reason,
        "rollback": p.rollback,
        # When the deployer finished it: the task's lastUpdate in a poll.
        "updated_at": int(msg.envelope.occurred_at.timestamp() * 1000),
    }
    stored = await record_outcomes(
        p.package_id, {p.pending_item_id: outcome}, deps, parent=msg.envelope
    )
    await deps.relay.drain(p.package_id, stored=stored)


async def record_outcomes(
    package_id: str, outcomes: dict[str, dict[str, Any]], deps: Deps, parent: Envelope | None = None
) -> list[Outgoing] | None:
    """Record task outcomes once each (duplicates are ignored) and finish the package
    when the last one is in; return once they are stored.

    The deployers' reports of one package arrive in bursts: those that queue up behind
    the package's lock are written together (a group commit), one package update for
    all. The messages this caller is to publish: the report that finished the package
    publishes ``package.finished``, the others [] (nothing), or None if the package
    was no longer releasing (a redelivery of the report that finished it: its outbox
    may still hold ``package.finished``)."""
    return await deps.outcomes.submit(
        package_id,
        domain.Report(outcomes, parent),
        lambda reports: _write(package_id, reports, deps),
        lambda reports: _completes(package_id, reports, deps),
    )


def _completes(package_id: str, reports: list[domain.Report], deps: Deps) -> bool:
    """Whether ``reports`` may finish the package, so waiting for more is pointless.
    Unknown (the package's first write here): yes, and the write tells."""
    return _finishes(package_id, reports, deps) is not False


def _finishes(package_id: str, reports: list[domain.Report], deps: Deps) -> bool | None:
    """Whether ``reports`` finish the package, as far as the last write here tells;
    None if it does not tell."""
    remaining = deps.remaining.get(package_id)
    if remaining is None:
        return None
    return len({k for r in reports for k in r.outcomes}) >= remaining


async def _write(
    package_id: str, reports: list[domain.Report], deps: Deps
) -> list[list[Outgoing] | None]:
    """Store a batch of reports: one read, one audit insert, one package update."""
    # The package's tasks, for package.finished: kept from its release, or, for the
    # last reports, read in the same round trip as the package, not after (it is the
    # release's final step, on its latency).
    items = deps.released_items.get(package_id)
    if items is None and _finishes(package_id, reports, deps):
        package, items = await asyncio.gather(
            deps.store.get_package(package_id), package_items(deps.store.items, package_id)
        )
    else:
        package = await deps.store.get_package(package_id)
    if package is None or package["deploy_status"] != RELEASING:
        deps.remaining.discard(package_id)
        deps.released_items.discard(package_id)
        if package is not None:
            await deps.store.refresh_view(package)  # in case a crash left it behind
        return [None] * len(reports)  # late or duplicate reports for a finished package
    finished = dict(package.get("finished") or {})
    new: dict[str, dict[str, Any]] = {}
    result: int | None = None
    finisher = 0  # the report that finished the package
    for i, report in enumerate(reports):
        fresh = {k: v for k, v in report.outcomes.items() if k not in finished}
        finished.update(fresh)
        new.update(fresh)
        result = domain.release_result(package["task_count"], finished)
        if result is not None:
            finisher = i
            break  # the batch's later reports are late
    if result is None:
        deps.remaining.put(package_id, package["task_count"] - len(finished))
    else:
        deps.remaining.discard(package_id)
        deps.released_items.discard(package_id)
    # A package stores a message only when it finishes, so while it is releasing, a
    # duplicate report has nothing to re-announce: [] for every report but the finisher.
    publish: list[list[Outgoing] | None] = [[] for _ in reports]
    if not new:
        await deps.store.refresh_view(package)  # in case a crash left it behind
        return publish
    now = deps.clock.now_ms()
    sets: dict[str, Any] = {f"finished.{k}": v for k, v in new.items()}
    sets["last_progress_at"] = now
    audit = [
        audit_entry(
            package,
            "task_deployed" if outcome["deploy_status"] == SUCCESSFUL else "task_failed",
            now,
            key=item_id,
            reason=outcome["reason"],
            detail={"pending_item_id": item_id, **outcome},
        )
        for item_id, outcome in new.items()
    ]
    events: list[Outgoing] = []
    if result is not None:
        sets.update(deploy_status=result, finished_at=now)
        events.append(
            await _finished_event(package, result, finished, deps, reports[finisher].parent, items)
        )
        audit.append(audit_entry(package, "finished", now, detail={"deploy_status": result}))
        publish[finisher] = events
    # The audit entries first: a retry after a failed update writes them again (the
    # replayed ones are skipped); after the update a retry finds nothing new.
    await deps.store.record_all(audit)
    await deps.store.update_package(package, sets, events)
    return publish


def keep_released_items(package_id: str, items: list[dict[str, Any]], deps: Deps) -> None:
    """Keep what ``package.finished`` will list of a package just released."""
    fields = ("pending_item_id", "item_key", "pending_version", "update_type")
    deps.released_items.put(package_id, [{k: i[k] for k in fields} for i in items])


async def _finished_event(
    package: dict[str, Any],
    result: int,
    finished: dict[str, dict[str, Any]],
    deps: Deps,
    parent: Envelope | None,
    items: list[dict[str, Any]] | None,
) -> Outgoing:
    if items is None:
        items = await package_items(deps.store.items, package["_id"])
    tasks = [
        TaskOutcome(
            pending_item_id=i["pending_item_id"],
            item_key=i["item_key"],
            version=i["pending_version"],
            update_type=i["update_type"],
            deploy_status=finished[i["pending_item_id"]]["deploy_status"],
            reason=finished[i["pending_item_id"]].get("reason", ""),
        )
        for i in items
    ]
    return Outgoing(
        PACKAGE_FINISHED.envelope(
            PackageFinished(
                package_id=package["_id"],
                asy_task_id=package["asy_task_id"],
                deploy_status=result,
                tasks=tasks,
                released_by=package.get("deploy_user_id", ""),
            ),
            project_id=package["project_id"],
            workspace_id=package["workspace_id"],
            parent=parent,
            message_id=stable_id("package.finished", package["_id"]),
        )
    )
