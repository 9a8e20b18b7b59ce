"""Approving and releasing packages (the deploy API), and the fan-out of a released
package into one work item per task for the deployer workers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from releasegate.review import domain
from releasegate.review.deps import Deps
from releasegate.review.progress import keep_released_items
from releasegate.review.repository import with_sets
from releasegate.shared.bus.base import Message
from releasegate.shared.bus.topology import DEPLOYER_WORK
from releasegate.shared.concurrently import all_of
from releasegate.shared.contracts.common import Actor
from releasegate.shared.contracts.deploy import DEPLOY_TASK, DeployTask
from releasegate.shared.contracts.envelope import Envelope
from releasegate.shared.contracts.packages import (
    PACKAGE_RELEASING,
    DeployPackages,
    PackageReleasing,
)
from releasegate.shared.errors import (
    ALREADY_DECIDED,
    NOT_FOUND,
    PARAMETER_INVALID,
    ReleasegateError,
)
from releasegate.shared.ids import stable_id
from releasegate.shared.readmodels.codes import RELEASING, TO_BE_REVIEWED
from releasegate.shared.readmodels.packages import find_package, package_items
from releasegate.shared.store.outbox import Outgoing


async def decide_once(
    package_id: str, decision: dict[str, Any], command: Envelope, deps: Deps
) -> dict[str, Any]:
    """Insert the package's one decision and return it; ``command`` redelivered gets
    the one it stored before. If another one won the race, say which."""
    if await deps.store.decide(package_id, decision):
        return decision
    other = await deps.store.get_decision(package_id)
    if other is not None and domain.decided_by(other, command, frozenset({decision["decision"]})):
        return other
    other = other or {}
    raise ReleasegateError(
        ALREADY_DECIDED,
        f"already decided: {other.get('decision')} by {other.get('by_name', other.get('by'))}",
    )


async def own_decisions(
    package_ids: list[str],
    check: Callable[[str], None],
    command: Envelope,
    kinds: frozenset[str],
    deps: Deps,
) -> dict[str, dict[str, Any]]:
    """Run ``check`` on every package; the decisions of those it refuses that
    ``command`` made itself (it is a redelivery), by package id. Any other refusal
    is raised. The decisions are read only once a check refused."""
    own: dict[str, dict[str, Any]] = {}
    for package_id in package_ids:
        try:
            check(package_id)
        except ReleasegateError:
            decision = await deps.store.get_decision(package_id)
            if decision is None or not domain.decided_by(decision, command, kinds):
                raise
            own[package_id] = decision
    return own


def async_task_id(package_id: str) -> str:
    """The id a caller polls; the same for every call on the package."""
    return stable_id("release", package_id)


async def deploy_packages(msg: Message[DeployPackages], deps: Deps) -> dict[str, Any]:
    """All-or-nothing validation, then one decision per package.

    Every id is checked first (exists in the caller's workspace, awaits review, the
    caller may release it); if any fails, nothing happens and the error names it.
    Then each package records the caller's approval and, once the workspace's
    approval count is reached, is released. A package that a concurrent call
    decided first (revoked, or released by someone else) is reported in a 409 that
    also lists the packages this call did release.
    """
    p, env = msg.payload, msg.envelope
    if len(set(p.package_ids)) != len(p.package_ids):
        raise ReleasegateError(PARAMETER_INVALID, "package_ids has duplicates.")
    policy, *packages = await asyncio.gather(
        deps.store.policy(env.project_id, env.workspace_id),
        *(
            find_package(deps.store.packages, env.project_id, env.workspace_id, package_id)
            for package_id in p.package_ids
        ),
    )
    found = dict(zip(p.package_ids, packages, strict=True))

    def check(package_id: str) -> None:
        package = found[package_id]
        if package is None:
            raise ReleasegateError(NOT_FOUND, f"Release package {package_id} does not exist.")
        domain.check_release(package, p.actor, policy)

    # A redelivery of this call finds the packages it released before it failed.
    released = await own_decisions(p.package_ids, check, env, domain.RELEASE_DECISIONS, deps)
    details, lost = [], []
    for package_id in p.package_ids:
        try:
            if package_id in released:
                details.append(await _finish(package_id, released[package_id], env, deps))
            else:
                details.append(await _approve(package_id, p, env, policy, deps))
        except ReleasegateError as exc:
            lost.append(f"{package_id}: {exc.message}")
            await deps.relay.drain(package_id)  # whatever an earlier attempt left
    if lost:
        done = ", ".join(str(d["package_id"]) for d in details) or "none"
        raise ReleasegateError(
            ALREADY_DECIDED, f"Not released: {'; '.join(lost)}. Released: {done}."
        )
    return {"deploy_package_details": details}


async def _approve(
    package_id: str, p: DeployPackages, env: Envelope, policy: domain.Policy, deps: Deps
) -> dict[str, Any]:
    """Approve ``package_id`` and release it once approved enough; its release detail."""
    async with deps.locks.hold(package_id):
        package = await deps.store.get_package(package_id)
        assert package is not None
        domain.check_release(package, p.actor, policy)  # again: it may have changed
        now = deps.clock.now_ms()
        approvals = await deps.store.approve(package_id, p.actor.user_id, now)
        approved = deps.store.record(
            package,
            "approved",
            now,
            actor_id=p.actor.user_id,
            actor_name=p.actor.user_name,
            detail={"approvals": approvals, "required": policy.required_approvals},
        )
        asy_task_id = async_task_id(package_id)
        if approvals >= policy.required_approvals:
            decision = {
                "decision": "release",
                "by": p.actor.user_id,
                "by_name": p.actor.user_name,
                "at": now,
                "startup_mode": p.startup_mode,
                "correlation_id": env.correlation_id,
            }
            decided = asyncio.ensure_future(decide_once(package_id, decision, env, deps))
            # The approval is on record whoever wins the decision: both go together.
            await all_of(approved, decided)
            await apply_release(package, decided.result(), deps, parent=env)
        else:
            await all_of(approved, deps.store.update_package(package, {"asy_task_id": asy_task_id}))
    return _detail(package)


async def _finish(
    package_id: str, decision: dict[str, Any], env: Envelope, deps: Deps
) -> dict[str, Any]:
    """A package this very call released before it failed: only what is left undone."""
    async with deps.locks.hold(package_id):
        package = await deps.store.get_package(package_id)
        assert package is not None
        if not decision["applied"]:
            await apply_release(package, decision, deps, parent=env)
    await deps.relay.drain(package_id)
    return _detail(package)


def _detail(package: dict[str, Any]) -> dict[str, Any]:
    """A released (or approved) package in the deploy answer."""
    return {
        "asy_subtask_num": package["task_count"],
        "asy_task_id": async_task_id(package["_id"]),
        "package_id": int(package["_id"]),
    }


async def apply_release(
    package: dict[str, Any], decision: dict[str, Any], deps: Deps, parent: Envelope | None = None
) -> None:
    """Mark the package releasing with its work items in its outbox, then send them
    to the deployers while the audit, the poll's view and the decision are brought up
    to date: those three are not on the way to the first deployed task. The caller
    holds the package's lock.

    Idempotent: the sweep re-applies a decision a crash left unapplied. A package
    released already (releasing, or even finished by then) gets only the rest done:
    its outbox, if a crash left anything in it, is the relay's, and the "released"
    audit entry is written again (a no-op if it was not lost with the crash)."""
    package_id = package["_id"]
    actor = Actor(user_id=decision["by"], user_name=decision["by_name"])
    asy_task_id = async_task_id(package_id)
    stored: list[Outgoing] = []
    if package["deploy_status"] == TO_BE_REVIEWED:
        items = await package_items(deps.store.items, package_id)
        keep_released_items(package_id, items, deps)
        stored = _fan_out(package, items, decision, actor, asy_task_id, parent)
        sets = {
            "deploy_status": RELEASING,
            "deploy_user_id": actor.user_id,
            "deploy_user_name": actor.user_name,
            "deploy_timestamp": decision["at"],
            "startup_mode": decision["startup_mode"],
            "asy_task_id": asy_task_id,
            "last_progress_at": decision["at"],
        }
        await deps.store.write_package(package, sets, stored)
        package = with_sets(package, sets)
    await all_of(
        deps.relay.publish_stored(package_id, stored),
        deps.store.refresh_view(package),
        deps.store.record(
            package,
            "released",
            decision["at"],
            actor_id=actor.user_id,
            actor_name=actor.user_name,
            detail={"startup_mode": decision["startup_mode"], "asy_task_id": asy_task_id},
        ),
        deps.store.decision_applied(package_id),
    )


def _fan_out(
    package: dict[str, Any],
    items: list[dict[str, Any]],
    decision: dict[str, Any],
    actor: Actor,
    asy_task_id: str,
    parent: Envelope | None,
) -> list[Outgoing]:
    """``package.releasing``, then one work item per task for the deployers."""
    package_id = package["_id"]
    scope = {"project_id": package["project_id"], "workspace_id": package["workspace_id"]}
    work = [
        Outgoing(
            DEPLOY_TASK.envelope(
                DeployTask(
                    package_id=package_id,
                    asy_task_id=asy_task_id,
                    pending_item_id=i["pending_item_id"],
                    item_key=i["item_key"],
                    item_name=i["item_name"],
                    task_type=i["task_type"],
                    update_type=i["update_type"],
                    version=i["pending_version"],
                    startup_mode=decision["startup_mode"],
                    released_by=actor.user_id,
                    released_by_name=actor.user_name,
                    production_version=i.get("deployed_version"),
                    production_version_known="deployed_version" in i,
                ),
                **scope,
                parent=parent,
                message_id=stable_id("deploy.task", package_id, i["pending_item_id"]),
            ),
            queue=DEPLOYER_WORK.name,
        )
        for i in items
    ]
    releasing = Outgoing(
        PACKAGE_RELEASING.envelope(
            PackageReleasing(
                package_id=package_id,
                asy_task_id=asy_task_id,
                startup_mode=decision["startup_mode"],
                released_by=actor.user_id,
                task_count=len(items),
            ),
            **scope,
            parent=parent,
            message_id=stable_id("package.releasing", package_id),
        )
    )
    return [releasing, *work]
