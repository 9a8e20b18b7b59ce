"""Identity administration (a releasegate extension, not part of the vendor's API),
under ``/v2/{project_id}/releasegate/``.

Users are tenant-level: only tenant administrators (DARTS Administrator, Tenant
Administrator) create, rename or disable them and grant tenant-wide roles. Workspace
admins see the project's users and set their roles in the request's workspace, and
only there.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from releasegate.gateway.auth import Caller, allowed
from releasegate.gateway.context import Context
from releasegate.gateway.errors import CONFLICT_RESPONSES
from releasegate.shared.errors import PARAMETER_INVALID, USER_ID_TAKEN, ReleasegateError
from releasegate.shared.identity import Role, TenantRole, User

router = APIRouter(tags=["identity administration (extension)"])

BASE = "/v2/{project_id}/releasegate/users"
UserId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
RESPONSES = CONFLICT_RESPONSES


class UserView(BaseModel):
    user_id: str
    name: str
    roles: list[Role] = Field(description="Roles in the request's workspace")
    tenant_roles: list[TenantRole]
    disabled: bool


class UsersPage(BaseModel):
    users: list[UserView]
    total: int


class UserProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    disabled: bool = False


class WorkspaceRoles(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[Role] = Field(max_length=5, description="Empty: no role in this workspace")


class TenantRoles(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_roles: list[TenantRole] = Field(max_length=2)


def _view(user: User, workspace_id: str) -> UserView:
    return UserView(
        user_id=user.user_id,
        name=user.name,
        roles=sorted(user.roles_in(workspace_id)),
        tenant_roles=sorted(set(user.tenant_roles)),
        disabled=user.disabled,
    )


async def _member(ctx: Context, caller: Caller, user_id: str) -> User:
    user = await ctx.identity.get_user(user_id)
    if user is None or user.project_id != caller.project_id:
        # Users of other projects answer exactly as unknown ones.
        raise ReleasegateError(PARAMETER_INVALID, f"Unknown user {user_id!r}.")
    return user


@router.get(BASE, response_model=UsersPage, responses=RESPONSES, summary="List users")
async def list_users(
    ctx: Context,
    caller: Annotated[Caller, Depends(allowed("list_users"))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> UsersPage:
    users, total = await asyncio.gather(
        ctx.identity.list_users(caller.project_id, skip=offset, limit=limit),
        ctx.identity.count_users(caller.project_id),
    )
    return UsersPage(users=[_view(u, caller.workspace_id) for u in users], total=total)


@router.put(
    BASE + "/{user_id}",
    response_model=UserView,
    responses=RESPONSES,
    summary="Create a user, or rename or disable one (tenant administrators)",
)
async def put_user(
    ctx: Context,
    caller: Annotated[Caller, Depends(allowed("put_user"))],
    user_id: UserId,
    profile: UserProfile,
) -> UserView:
    new = User(
        user_id=user_id, name=profile.name, project_id=caller.project_id, disabled=profile.disabled
    )
    if not await ctx.identity.add_user(new):
        await _member_or_taken(ctx, caller, user_id)
        await ctx.identity.update_profile(user_id, name=profile.name, disabled=profile.disabled)
    return _view(await _member(ctx, caller, user_id), caller.workspace_id)


async def _member_or_taken(ctx: Context, caller: Caller, user_id: str) -> None:
    user = await ctx.identity.get_user(user_id)
    if user is not None and user.project_id != caller.project_id:
        raise ReleasegateError(USER_ID_TAKEN)


@router.put(
    BASE + "/{user_id}/roles",
    response_model=UserView,
    responses=RESPONSES,
    summary="Set a user's roles in the request's workspace (grant and revoke)",
)
async def set_workspace_roles(
    ctx: Context,
    caller: Annotated[Caller, Depends(allowed("set_workspace_roles"))],
    user_id: UserId,
    body: WorkspaceRoles,
) -> UserView:
    await _member(ctx, caller, user_id)
    await ctx.identity.set_workspace_roles(user_id, caller.workspace_id, body.roles)
    return _view(await _member(ctx, caller, user_id), caller.workspace_id)


@router.put(
    BASE + "/{user_id}/tenant-roles",
    response_model=UserView,
    responses=RESPONSES,
    summary="Set a user's tenant-wide roles (tenant administrators)",
)
async def set_tenant_roles(
    ctx: Context,
    caller: Annotated[Caller, Depends(allowed("set_tenant_roles"))],
    user_id: UserId,
    body: TenantRoles,
) -> UserView:
    await _member(ctx, caller, user_id)
    await ctx.identity.set_tenant_roles(user_id, body.tenant_roles)
    return _view(await _member(ctx, caller, user_id), caller.workspace_id)
