"""POST /v2/{project_id}/factory/events: the HTTP ingress for upstream events.

The body is the same JSON an upstream system publishes to RabbitMQ (the message
envelope); ``project_id`` and ``workspace_id`` may be left out and come from the
path and the ``workspace`` header. It is validated exactly as a consumer would
validate it, then published to the bus.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from releasegate.gateway.auth import Caller, allowed
from releasegate.gateway.context import Context
from releasegate.gateway.errors import CONFLICT_RESPONSES
from releasegate.gateway.idempotency import Idempotent
from releasegate.shared.bus.base import decode
from releasegate.shared.contracts import lookup
from releasegate.shared.contracts.envelope import ROUTING_KEY_PATTERN
from releasegate.shared.contracts.upstream import UpstreamPayload
from releasegate.shared.errors import EVENT_INVALID, FORBIDDEN, UNAVAILABLE, ReleasegateError
from releasegate.shared.identity import Role

router = APIRouter(tags=["upstream events"])


class UpstreamEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(
        pattern=ROUTING_KEY_PATTERN, max_length=128, examples=["job.version.submitted"]
    )
    schema_version: int = Field(1, ge=1, le=1000)
    payload: dict[str, Any]
    message_id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="Idempotency: resending the same id is a no-op.",
    )
    occurred_at: datetime | None = None
    correlation_id: str | None = Field(None, max_length=128)
    project_id: str | None = Field(None, max_length=64)
    workspace_id: str | None = Field(None, max_length=64)
    trace: dict[str, str] | None = None


class EventAccepted(BaseModel):
    message_id: str
    type: str


@router.post(
    "/v2/{project_id}/factory/events",
    status_code=202,
    response_model=EventAccepted,
    responses=CONFLICT_RESPONSES,
    summary="Publish an upstream event (version submitted, jobs imported, job created)",
)
async def ingest_event(
    ctx: Context,
    event: UpstreamEvent,
    caller: Annotated[Caller, Depends(allowed("ingest_event"))],
    idempotency_id: Idempotent,
) -> EventAccepted:
    for field, expected in (
        ("project_id", caller.project_id),
        ("workspace_id", caller.workspace_id),
    ):
        given = getattr(event, field)
        if given is not None and given != expected:
            raise ReleasegateError(
                EVENT_INVALID, f"{field} {given!r} does not match the request's {expected!r}."
            )
    body = event.model_dump(mode="json", exclude_none=True)
    body.update(project_id=caller.project_id, workspace_id=caller.workspace_id)
    if idempotency_id is not None and event.message_id is None:
        # A retry after an unknown outcome (timeout) republishes the same message id,
        # which the consumers deduplicate.
        body["message_id"] = idempotency_id
    contract = lookup(event.type, event.schema_version)
    if contract is None or contract.kind != "upstream":
        raise ReleasegateError(
            EVENT_INVALID, f"Unknown upstream event {event.type!r} v{event.schema_version}."
        )
    decoded = decode(json.dumps(body).encode(), ctx.settings.max_message_bytes)
    if isinstance(decoded, str):
        raise ReleasegateError(EVENT_INVALID, decoded)
    envelope, payload = decoded
    _check_speaks_for_caller(caller, payload)
    try:
        await asyncio.wait_for(ctx.bus.publish(envelope), ctx.settings.rpc_timeout_s)
    except (TimeoutError, ConnectionError) as exc:
        raise ReleasegateError(UNAVAILABLE, "The message bus is unavailable; retry.") from exc
    return EventAccepted(message_id=envelope.message_id, type=envelope.type)


def _check_speaks_for_caller(caller: Caller, payload: UpstreamPayload) -> None:
    """Over HTTP an event speaks for its caller. Admins and tenant administrators may
    publish for others, as an upstream system's account does; anyone else only as
    themselves (the submitter may later revoke the task), and never jobs imported as
    released, which set what production runs without a review. The AMQP path is
    trusted by its broker credentials."""
    if caller.user.is_tenant_admin() or Role.ADMIN in caller.roles:
        return
    if payload.actor_id != caller.user.user_id:
        raise ReleasegateError(
            FORBIDDEN,
            f"The event names {payload.actor_id!r} as its author; only an admin may "
            "publish on behalf of another user.",
        )
    if payload.records_production:
        raise ReleasegateError(FORBIDDEN, "Only an admin may import jobs as already released.")
