"""(releasegate) Reviewer management and approval policy, per workspace."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from releasegate.gateway.auth import Caller, allowed
from releasegate.gateway.context import Context, GatewayContext
from releasegate.gateway.errors import ERROR_RESPONSES
from releasegate.gateway.rpc import actor, ask
from releasegate.shared.bus.topology import REVIEW_INBOX
from releasegate.shared.contracts.packages import (
    MANAGE_REVIEWER,
    SET_POLICY,
    ManageReviewer,
    SetPolicy,
)
from releasegate.shared.readmodels.packages import POLICIES, REVIEWERS

router = APIRouter(tags=["reviewers and policy"])
UserId = Annotated[str, Path(min_length=1, max_length=64)]


class Reviewer(BaseModel):
    user_id: str
    user_name: str
    added_by: str
    added_at: int


class Reviewers(BaseModel):
    workspace_id: str
    reviewers: list[Reviewer]


@router.get(
    "/v2/{project_id}/factory/reviewers",
    response_model=Reviewers,
    responses=ERROR_RESPONSES,
    summary="(releasegate) The workspace's reviewers (empty: any eligible user)",
)
async def list_reviewers(
    ctx: Context,
    caller: Annotated[Caller, Depends(allowed("list_reviewers"))],
) -> Reviewers:
    docs = await ctx.db.collection(REVIEWERS).find(
        {"project_id": caller.project_id, "workspace_id": caller.workspace_id},
        sort=[("user_name", 1)],
    )
    return Reviewers(
        workspace_id=caller.workspace_id, reviewers=[Reviewer.model_validate(d) for d in docs]
    )


async def _manage(
    ctx: GatewayContext, caller: Caller, action: Literal["add", "remove"], user_id: str
) -> dict[str, Any]:
    command = ManageReviewer(actor=actor(caller), action=action, user_id=user_id)
    return await ask(ctx, caller, REVIEW_INBOX.name, MANAGE_REVIEWER, command)


@router.put(
    "/v2/{project_id}/factory/reviewers/{user_id}",
    responses=ERROR_RESPONSES,
    summary="(releasegate) Add a reviewer (must hold admin or deployer)",
)
async def add_reviewer(
    ctx: Context,
    user_id: UserId,
    caller: Annotated[Caller, Depends(allowed("add_reviewer"))],
) -> dict[str, Any]:
    return await _manage(ctx, caller, "add", user_id)


@router.delete(
    "/v2/{project_id}/factory/reviewers/{user_id}",
    responses=ERROR_RESPONSES,
    summary="(releasegate) Remove a reviewer",
)
async def remove_reviewer(
    ctx: Context,
    user_id: UserId,
    caller: Annotated[Caller, Depends(allowed("remove_reviewer"))],
) -> dict[str, Any]:
    return await _manage(ctx, caller, "remove", user_id)


class Policy(BaseModel):
    required_approvals: int = Field(
        1, ge=1, le=10, description="Distinct approvals before release."
    )
    allow_self_release: bool = Field(
        False, description="May an admin or deployer release a package they applied for?"
    )


@router.get(
    "/v2/{project_id}/factory/approval-policy",
    response_model=Policy,
    responses=ERROR_RESPONSES,
    summary="(releasegate) The workspace's approval policy",
)
async def get_policy(
    ctx: Context,
    caller: Annotated[Caller, Depends(allowed("get_approval_policy"))],
) -> Policy:
    doc = await ctx.db.collection(POLICIES).find_one(
        {"_id": f"{caller.project_id}/{caller.workspace_id}"}
    )
    return Policy.model_validate(doc) if doc else Policy()


@router.put(
    "/v2/{project_id}/factory/approval-policy",
    response_model=Policy,
    responses=ERROR_RESPONSES,
    summary="(releasegate) Set the approval policy",
)
async def set_policy(
    ctx: Context,
    body: Policy,
    caller: Annotated[Caller, Depends(allowed("set_approval_policy"))],
) -> Policy:
    result = await ask(
        ctx,
        caller,
        REVIEW_INBOX.name,
        SET_POLICY,
        SetPolicy(
            actor=actor(caller),
            required_approvals=body.required_approvals,
            allow_self_release=body.allow_self_release,
        ),
    )
    return Policy.model_validate(result)
