"""Approving and releasing packages (the deploy API), and the fan-out of a released
package into one work item per task for the deployer workers."""

from __future__ import annotations

from typing import Any

from releasegate.review import domain
from releasegate.review.deps import Deps
from releasegate.shared.bus.base import Message
from releasegate.shared.bus.topology import DEPLOYER_WORK
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
from releasegate.shared.readmodels.codes import RELEASING
from releasegate.shared.readmodels.packages import find_package, package_items
from releasegate.shared.store.outbox import Outgoing


async def decide_once(package_id: str, decision: dict[str, Any], deps: Deps) -> None:
    """Insert the package's one decision; if another one won the race, say which."""
    if not await deps.store.decide(package_id, decision):
        other = await deps.store.get_decision(package_id) or {}
        raise ReleasegateError(
            ALREADY_DECIDED,
            f"already decided: {other.get('decision')} by {other.get('by_name', other.get('by'))}",
        )


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
    policy = await deps.store.policy(env.project_id, env.workspace_id)
    for package_id in p.package_ids:
        package = await find_package(
            deps.store.packages, env.project_id, env.workspace_id, package_id
        )
        if package is None:
            raise ReleasegateError(NOT_FOUND, f"Release package {package_id} does not exist.")
        domain.check_release(package, p.actor, policy)
    details, lost = [], []
    for package_id in p.package_ids:
        stored: list[Outgoing] | None = None  # None: re-announce whatever is left
        try:
            detail, stored = await _approve(package_id, p, env, policy, deps)
            details.append(detail)
        except ReleasegateError as exc:
            lost.append(f"{package_id}: {exc.message}")
        await deps.relay.drain(package_id, stored=stored)
    if lost:
        done = ", ".join(str(d["package_id"]) for d in details) or "none"
        raise ReleasegateError(
            ALREADY_DECIDED, f"Not released: {'; '.join(lost)}. Released: {done}."
        )
    return {"deploy_package_details": details}


async def _approve(
    package_id: str, p: DeployPackages, env: Envelope, policy: domain.Policy, deps: Deps
) -> tuple[dict[str, Any], list[Outgoing] | None]:
    """The release detail, and the messages stored (see ``apply_release``)."""
    async with deps.locks.hold(package_id):
        package = await deps.store.get_package(package_id)
        assert package is not None
        domain.check_release(package, p.actor, policy)  # again: it may have changed
        now = deps.clock.now_ms()
        approvals = await deps.store.approve(package_id, p.actor.user_id, now)
        await deps.store.record(
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
            await decide_once(package_id, decision, deps)
            stored = await apply_release(package, decision, deps, parent=env)
        else:
            await deps.store.update_package(package, {"asy_task_id": asy_task_id})
            stored = []
    detail = {
        "asy_subtask_num": package["task_count"],
        "asy_task_id": asy_task_id,
        "package_id": int(package_id),
    }
    return detail, stored


async def apply_release(
    package: dict[str, Any], decision: dict[str, Any], deps: Deps, parent: Envelope | None = None
) -> list[Outgoing] | None:
    """Mark the package releasing and fan it out, with the work items in its outbox;
    the messages stored, or None if it was released already (its outbox may still hold
    them). Idempotent: the sweep re-applies a decision a crash left unapplied."""
    package_id = package["_id"]
    stored: list[Outgoing] | None = None
    if package["deploy_status"] != RELEASING:
        actor = Actor(user_id=decision["by"], user_name=decision["by_name"])
        asy_task_id = async_task_id(package_id)
        items = await package_items(deps.store.items, package_id)
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
        now = decision["at"]
        stored = [releasing, *work]
        await deps.store.update_package(
            package,
            {
                "deploy_status": RELEASING,
                "deploy_user_id": actor.user_id,
                "deploy_user_name": actor.user_name,
                "deploy_timestamp": now,
                "startup_mode": decision["startup_mode"],
                "asy_task_id": asy_task_id,
                "last_progress_at": now,
            },
            stored,
        )
        await deps.store.record(
            package,
            "released",
            now,
            actor_id=actor.user_id,
            actor_name=actor.user_name,
            detail={"startup_mode": decision["startup_mode"], "asy_task_id": asy_task_id},
        )
    else:
        await deps.store.refresh_view(package)  # in case a crash left it behind
    await deps.store.decision_applied(package_id)
    return stored
