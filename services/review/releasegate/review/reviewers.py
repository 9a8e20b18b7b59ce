"""Reviewer management and approval policy, per workspace (admins only)."""

from __future__ import annotations

from typing import Any

from releasegate.review.deps import Deps
from releasegate.review.domain import Policy
from releasegate.shared.bus.base import Message
from releasegate.shared.contracts.packages import ManageReviewer, SetPolicy
from releasegate.shared.errors import (
    APPROVER_NOT_ELIGIBLE,
    APPROVER_UNKNOWN,
    FORBIDDEN,
    NOT_FOUND,
    ReleasegateError,
)
from releasegate.shared.identity import Role


async def manage_reviewer(msg: Message[ManageReviewer], deps: Deps) -> dict[str, Any]:
    p, env = msg.payload, msg.envelope
    if not p.actor.holds(Role.ADMIN):
        raise ReleasegateError(FORBIDDEN, "Only a workspace admin manages reviewers.")
    now = deps.clock.now_ms()
    if p.action == "remove":
        if not await deps.store.remove_reviewer(env.project_id, env.workspace_id, p.user_id):
            raise ReleasegateError(NOT_FOUND, f"{p.user_id} is not a reviewer.")
        return {"removed": p.user_id}
    user = await deps.identity.get_user(p.user_id)
    if user is None or user.project_id != env.project_id:
        raise ReleasegateError(APPROVER_UNKNOWN, f"User {p.user_id} does not exist.")
    if not user.can_review(env.workspace_id):
        raise ReleasegateError(
            APPROVER_NOT_ELIGIBLE,
            f"{p.user_id} holds neither admin nor deployer in "
            f"{env.workspace_id}, nor a tenant administrator role.",
        )
    await deps.store.add_reviewer(
        env.project_id, env.workspace_id, user.user_id, user.name, p.actor.user_id, now
    )
    return {"added": p.user_id}


async def set_policy(msg: Message[SetPolicy], deps: Deps) -> dict[str, Any]:
    p, env = msg.payload, msg.envelope
    if not p.actor.holds(Role.ADMIN):
        raise ReleasegateError(FORBIDDEN, "Only a workspace admin sets the approval policy.")
    policy = Policy(p.required_approvals, p.allow_self_release)
    await deps.store.set_policy(
        env.project_id, env.workspace_id, policy, p.actor.user_id, deps.clock.now_ms()
    )
    return {
        "required_approvals": policy.required_approvals,
        "allow_self_release": policy.allow_self_release,
    }
