"""Asking a service and waiting for its answer (request/reply over the bus)."""

from __future__ import annotations

from typing import Any

from releasegate.gateway.auth import Caller
from releasegate.gateway.context import GatewayContext
from releasegate.shared.contracts.common import Actor
from releasegate.shared.contracts.envelope import Contract, Payload
from releasegate.shared.errors import UNAVAILABLE, ReleasegateError, lookup


def actor(caller: Caller) -> Actor:
    return Actor(
        user_id=caller.user.user_id,
        user_name=caller.user.name,
        roles=sorted(str(r) for r in caller.roles),
        tenant_admin=caller.user.is_tenant_admin(),
    )


async def ask(
    ctx: GatewayContext, caller: Caller, queue: str, contract: Contract[Any], payload: Payload
) -> dict[str, Any]:
    """The service's result, or its refusal as the same DLF error."""
    envelope = contract.envelope(
        payload, project_id=caller.project_id, workspace_id=caller.workspace_id
    )
    try:
        reply = await ctx.bus.request(queue, envelope, ctx.settings.rpc_timeout_s)
    except (TimeoutError, ConnectionError) as exc:
        raise ReleasegateError(UNAVAILABLE, "The service did not answer in time; retry.") from exc
    if not reply.ok:
        raise ReleasegateError(lookup(reply.error_code or ""), reply.error_msg)
    return reply.result or {}
