"""Revoking packages: the applicant withdraws (revoked), a reviewer sends it back to
the developer (rejected). Either way its tasks are pending again."""

from __future__ import annotations

from typing import Any

from releasegate.review import domain
from releasegate.review.deps import Deps
from releasegate.review.release import decide_once, own_decisions
from releasegate.shared.bus.base import Message
from releasegate.shared.contracts.envelope import Envelope
from releasegate.shared.contracts.packages import (
    PACKAGE_RETURNED,
    PackageReturned,
    PackageTask,
    UnpackPackages,
)
from releasegate.shared.errors import (
    ALREADY_DECIDED,
    NOT_FOUND,
    PARAMETER_INVALID,
    ReleasegateError,
)
from releasegate.shared.ids import stable_id
from releasegate.shared.readmodels.codes import REJECTED
from releasegate.shared.readmodels.packages import find_package, package_items
from releasegate.shared.store.outbox import Outgoing


async def unpack_packages(msg: Message[UnpackPackages], deps: Deps) -> None:
    """All-or-nothing validation, then one decision per package (see deploy)."""
    p, env = msg.payload, msg.envelope
    if len(set(p.package_ids)) != len(p.package_ids):
        raise ReleasegateError(PARAMETER_INVALID, "package_ids has duplicates.")
    found = {
        package_id: await find_package(
            deps.store.packages, env.project_id, env.workspace_id, package_id
        )
        for package_id in p.package_ids
    }

    def check(package_id: str) -> None:
        package = found[package_id]
        if package is None:
            raise ReleasegateError(NOT_FOUND, f"Release package {package_id} does not exist.")
        domain.unpack_outcome(package, p.actor)

    # A redelivery of this call finds the packages it returned before it failed.
    returned = await own_decisions(p.package_ids, check, env, domain.RETURN_DECISIONS, deps)
    lost = []
    for package_id in p.package_ids:
        stored: list[Outgoing] | None = None  # None: re-announce whatever is left
        try:
            if package_id in returned:
                await _finish(package_id, returned[package_id], env, deps)
            else:
                stored = await _unpack(package_id, p, env, deps)
        except ReleasegateError as exc:
            lost.append(f"{package_id}: {exc.message}")
        await deps.relay.drain(package_id, stored=stored)
    if lost:
        raise ReleasegateError(ALREADY_DECIDED, f"Not revoked: {'; '.join(lost)}.")


async def _unpack(
    package_id: str, p: UnpackPackages, env: Envelope, deps: Deps
) -> list[Outgoing] | None:
    async with deps.locks.hold(package_id):
        package = await deps.store.get_package(package_id)
        assert package is not None
        status = domain.unpack_outcome(package, p.actor)
        now = deps.clock.now_ms()
        decision = {
            "decision": "reject" if status == REJECTED else "revoke",
            "status": status,
            "by": p.actor.user_id,
            "by_name": p.actor.user_name,
            "at": now,
            "reason": p.reason,
            "correlation_id": env.correlation_id,
        }
        decided = await decide_once(package_id, decision, env, deps)
        return await apply_return(package, decided, deps, parent=env)


async def _finish(package_id: str, decision: dict[str, Any], env: Envelope, deps: Deps) -> None:
    """A package this very call returned before it failed: only what is left undone."""
    if decision["applied"]:
        return
    async with deps.locks.hold(package_id):
        package = await deps.store.get_package(package_id)
        assert package is not None
        await apply_return(package, decision, deps, parent=env)


async def apply_return(
    package: dict[str, Any], decision: dict[str, Any], deps: Deps, parent: Envelope | None = None
) -> list[Outgoing] | None:
    """Return the package's tasks; the message stored, or None if they were returned
    already (its outbox may still hold it). Idempotent: the sweep, or the command
    redelivered, re-applies a decision a crash left unapplied, and writes its audit
    entry again (a no-op if it was not lost)."""
    package_id = package["_id"]
    status = decision["status"]
    stored: list[Outgoing] | None = None
    if package["deploy_status"] != status:
        items = await package_items(deps.store.items, package_id)
        event = PACKAGE_RETURNED.envelope(
            PackageReturned(
                package_id=package_id,
                status=status,
                by=decision["by"],
                reason=decision.get("reason", ""),
                tasks=[
                    PackageTask(
                        pending_item_id=i["pending_item_id"],
                        item_key=i["item_key"],
                        pending_version=i["pending_version"],
                    )
                    for i in items
                ],
            ),
            project_id=package["project_id"],
            workspace_id=package["workspace_id"],
            parent=parent,
            message_id=stable_id("package.returned", package_id),
        )
        stored = [Outgoing(event)]
        await deps.store.update_package(
            package,
            {
                "deploy_status": status,
                "returned_by": decision["by"],
                "returned_by_name": decision["by_name"],
                "returned_at": decision["at"],
                "reason": decision.get("reason", ""),
            },
            stored,
        )
    else:
        await deps.store.refresh_view(package)  # in case a crash left it behind
    await deps.store.record(
        package,
        "rejected" if status == REJECTED else "revoked",
        decision["at"],
        actor_id=decision["by"],
        actor_name=decision["by_name"],
        reason=decision.get("reason", ""),
    )
    await deps.store.decision_applied(package_id)
    return stored
