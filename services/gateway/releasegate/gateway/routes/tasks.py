"""(releasegate) Extensions on release tasks: view the diff, revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from releasegate.gateway.auth import Caller, allowed
from releasegate.gateway.context import Context
from releasegate.gateway.errors import ERROR_RESPONSES
from releasegate.gateway.idempotency import Idempotent
from releasegate.gateway.rpc import actor, ask
from releasegate.shared.bus.topology import SUBMISSION_INBOX
from releasegate.shared.contracts.tasks import DIFF_TASK, REVOKE_TASKS, DiffTask, RevokeTasks

router = APIRouter(tags=["pending items"])


class DiffSide(BaseModel):
    version: int
    content_available: bool
    diff: str


class TaskDiff(BaseModel):
    pending_item_id: str
    item_name: str
    task_type: int
    pending_version: int
    content_available: bool
    against_previous: DiffSide | None = Field(
        description="Against the previously submitted version; null for a first version."
    )
    against_production: DiffSide | None = Field(
        description="Against the version in production; null if not in production."
    )


@router.get(
    "/v2/{project_id}/factory/pending-items/{pending_item_id}/diff",
    response_model=TaskDiff,
    responses=ERROR_RESPONSES,
    summary="(releasegate) View a task's changes",
    description="Unified diff of the pending version against the previous one and against "
    "production: text for scripts, key-ordered pretty-printed JSON for job definitions.",
)
async def diff(
    ctx: Context,
    pending_item_id: Annotated[str, Path(pattern=r"^[0-9]{1,19}$")],
    caller: Annotated[Caller, Depends(allowed("diff_pending_item"))],
) -> TaskDiff:
    result = await ask(
        ctx, caller, SUBMISSION_INBOX.name, DIFF_TASK, DiffTask(pending_item_id=pending_item_id)
    )
    return TaskDiff.model_validate(result)


class RevokeBody(BaseModel):
    pending_item_ids: list[Annotated[str, Field(pattern=r"^[0-9]{1,19}$")]] = Field(
        min_length=1, max_length=100
    )
    reason: Annotated[str, Field(max_length=512)] = ""


class Revoked(BaseModel):
    revoked: list[str]


@router.post(
    "/v2/{project_id}/factory/pending-items/revoke",
    response_model=Revoked,
    responses=ERROR_RESPONSES,
    summary="(releasegate) Revoke tasks that should not be released",
    description="The submitter, a deployer or an admin. All or none: a task inside a "
    "package awaiting review is refused, naming the package.",
)
async def revoke(
    ctx: Context,
    body: RevokeBody,
    caller: Annotated[Caller, Depends(allowed("revoke_pending_items"))],
    idempotency_id: Idempotent,  # a retry with the same key gets the first answer
) -> dict[str, Any]:
    return await ask(
        ctx,
        caller,
        SUBMISSION_INBOX.name,
        REVOKE_TASKS,
        RevokeTasks(
            actor=actor(caller), pending_item_ids=body.pending_item_ids, reason=body.reason
        ),
    )
