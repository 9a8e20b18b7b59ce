"""Authentication (X-Auth-Token) and workspace authorisation, as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path

from releasegate.gateway.context import Context
from releasegate.gateway.permissions import PERMISSIONS
from releasegate.shared.errors import FORBIDDEN, UNAUTHENTICATED, ReleasegateError
from releasegate.shared.identity import Role, User
from releasegate.shared.tokens import TokenError, verify_token

ProjectId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@dataclass(frozen=True)
class Caller:
    user: User
    project_id: str
    workspace_id: str

    @property
    def roles(self) -> set[Role]:
        return self.user.roles_in(self.workspace_id)


async def authenticate(
    ctx: Context,
    project_id: ProjectId,
    x_auth_token: Annotated[str | None, Header(max_length=4096)] = None,
    workspace: Annotated[str | None, Header(max_length=64)] = None,
) -> Caller:
    if not x_auth_token:
        raise ReleasegateError(UNAUTHENTICATED, "X-Auth-Token is required.")
    try:
        claims = verify_token(
            x_auth_token,
            secret=ctx.settings.token_secret,
            issuer=ctx.settings.token_issuer,
            audience=ctx.settings.token_audience,
        )
    except TokenError as exc:
        raise ReleasegateError(UNAUTHENTICATED, f"Invalid token: {exc}") from exc
    user = await ctx.identity.get_user(str(claims["sub"]))
    if user is None or user.disabled:
        raise ReleasegateError(UNAUTHENTICATED, "Unknown or disabled user.")
    if user.project_id != project_id:
        raise ReleasegateError(FORBIDDEN, "The caller has no access to this project.")
    workspace_id = workspace
    if not workspace_id:
        project = await ctx.identity.get_project(project_id)
        if project is None:
            raise ReleasegateError(FORBIDDEN, "The project has no default workspace.")
        workspace_id = project.default_workspace
    return Caller(user, project_id, workspace_id)


def allowed(operation: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency that admits callers holding a role the table allows."""
    roles = PERMISSIONS[operation]

    async def check(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
        if caller.user.is_tenant_admin() or caller.roles & roles:
            return caller
        raise ReleasegateError(
            FORBIDDEN, f"The caller's roles in workspace {caller.workspace_id} do not allow this."
        )

    check.operation = operation  # type: ignore[attr-defined]  # read by docs and tests
    return check
