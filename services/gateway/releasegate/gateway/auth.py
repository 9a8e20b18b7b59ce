"""Authentication and workspace authorisation, as FastAPI dependencies.

Every API route depends on ``allowed("<operation>")``, which depends on
``authenticate``: a caller proves who they are with an ``X-Auth-Token`` (a signed JWT)
or with the official SDK's AK/SK signature (``Authorization: SDK-HMAC-SHA256 ...``),
and may act only inside their own project, in the request's workspace (the
``workspace`` header, else the project's default), with the roles they hold there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request, Security
from fastapi.security import APIKeyHeader

from releasegate.gateway import signature as sig
from releasegate.gateway.context import Context, GatewayContext
from releasegate.gateway.permissions import PERMISSIONS
from releasegate.shared.errors import (
    FORBIDDEN,
    SIGNATURE_EXPIRED,
    SIGNATURE_INVALID,
    SIGNATURE_REPLAYED,
    UNAUTHENTICATED,
    ReleasegateError,
)
from releasegate.shared.identity import Role, User
from releasegate.shared.tokens import TokenError, verify_token

ProjectId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]

TOKEN_HEADER = APIKeyHeader(
    name="X-Auth-Token",
    scheme_name="X-Auth-Token",
    description="A signed JWT (HS256, or RS256/ES256 by `kid` from the JWKS file).",
    auto_error=False,
)
SIGNATURE_HEADER = APIKeyHeader(
    name="Authorization",
    scheme_name="AK/SK",
    description="`SDK-HMAC-SHA256 Access=AK, SignedHeaders=..., Signature=...` with an "
    "`X-Sdk-Date` header, as the official SDKs sign requests.",
    auto_error=False,
)


@dataclass(frozen=True)
class Caller:
    user: User
    project_id: str
    workspace_id: str

    @property
    def roles(self) -> set[Role]:
        return self.user.roles_in(self.workspace_id)


async def authenticate(
    request: Request,
    ctx: Context,
    project_id: ProjectId,
    x_auth_token: Annotated[str | None, Security(TOKEN_HEADER)] = None,
    authorization: Annotated[str | None, Security(SIGNATURE_HEADER)] = None,
    workspace: Annotated[str | None, Header(max_length=64)] = None,
) -> Caller:
    if authorization and sig.is_signature_header(authorization):
        user_id = await _signed_user(ctx, request, authorization)
    elif x_auth_token:
        user_id = _token_user(ctx, x_auth_token)
    else:
        raise ReleasegateError(UNAUTHENTICATED, "X-Auth-Token or an AK/SK signature is required.")
    # Both are needed for every admitted caller; reading them together saves a round trip.
    user, project = await asyncio.gather(
        ctx.identity.get_user(user_id), ctx.identity.get_project(project_id)
    )
    if user is None or user.disabled:
        raise ReleasegateError(UNAUTHENTICATED, "Unknown or disabled user.")
    if user.project_id != project_id:
        raise ReleasegateError(FORBIDDEN, "The caller has no access to this project.")
    if project is None:
        raise ReleasegateError(FORBIDDEN, "The project is not set up.")
    workspace_id = workspace or project.default_workspace
    if workspace_id not in project.all_workspaces():
        raise ReleasegateError(FORBIDDEN, "The caller has no access to this workspace.")
    return Caller(user, project_id, workspace_id)


def _token_user(ctx: GatewayContext, token: str) -> str:
    def verify(t: str) -> dict[str, Any]:
        return verify_token(
            t,
            ctx.token_keys,
            issuer=ctx.settings.token_issuer,
            audience=ctx.settings.token_audience,
        )

    try:
        claims = ctx.verified_tokens.claims(token, verify)
    except TokenError as exc:
        raise ReleasegateError(UNAUTHENTICATED, f"Invalid token: {exc}") from exc
    return str(claims["sub"])


async def _signed_user(ctx: GatewayContext, request: Request, authorization: str) -> str:
    try:
        claimed = sig.parse_authorization(authorization)
        sdk_date = request.headers.get("x-sdk-date", "")
        signed_at_ms = sig.parse_sdk_date(sdk_date)
    except sig.SignatureError as exc:
        raise ReleasegateError(SIGNATURE_INVALID, str(exc)) from exc
    window_ms = ctx.settings.signature_window_s * 1000
    if abs(ctx.clock.now_ms() - signed_at_ms) > window_ms:
        raise ReleasegateError(SIGNATURE_EXPIRED)
    pair = await ctx.credentials.resolve(claimed.access_key)
    if pair is None:
        raise ReleasegateError(SIGNATURE_INVALID, "Unknown or disabled access key.")
    try:
        canonical = sig.canonical_request(
            request.method,
            request.scope["path"],
            request.scope["query_string"].decode("latin-1"),
            _decoded_headers(request),
            claimed.signed_headers,
            await request.body(),
        )
    except sig.SignatureError as exc:
        raise ReleasegateError(SIGNATURE_INVALID, str(exc)) from exc
    to_sign = sig.string_to_sign(canonical, sdk_date)
    if not sig.signature_matches(pair.secret_key, to_sign, claimed.signature):
        raise ReleasegateError(SIGNATURE_INVALID)
    if not await ctx.seen_signatures.first_use(claimed.signature, signed_at_ms + window_ms):
        raise ReleasegateError(SIGNATURE_REPLAYED)
    return pair.user_id


def _decoded_headers(request: Request) -> list[tuple[str, str]]:
    # The SDK sends header values as UTF-8 bytes and signs the decoded text.
    out = []
    for name, value in request.headers.raw:
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = value.decode("latin-1")
        out.append((name.decode("latin-1"), text))
    return out


def allowed(operation: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency that admits callers holding a role the table allows."""
    roles = PERMISSIONS[operation]

    async def check(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
        if caller.user.is_tenant_admin() or caller.roles & roles:
            return caller
        raise ReleasegateError(
            FORBIDDEN, f"The caller's roles in workspace {caller.workspace_id} do not allow this."
        )

    # Lets tests (and docs) find each route's operation in the permission table.
    check.operation = operation  # type: ignore[attr-defined]
    return check


def operation_of(dependency: object) -> str | None:
    """The PERMISSIONS operation an ``allowed(...)`` dependency enforces, else None."""
    operation = getattr(dependency, "operation", None)
    return operation if isinstance(operation, str) else None
