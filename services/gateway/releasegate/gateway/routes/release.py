"""Releasing (deploy) and revoking (unpack) packages, and polling the release."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, Field, field_validator

from releasegate.gateway.auth import Caller, allowed
from releasegate.gateway.context import Context
from releasegate.gateway.errors import ERROR_RESPONSES
from releasegate.gateway.idempotency import Idempotent
from releasegate.gateway.rpc import actor, ask
from releasegate.shared.bus.topology import REVIEW_INBOX
from releasegate.shared.contracts.packages import (
    DEPLOY_PACKAGES,
    UNPACK_PACKAGES,
    DeployPackages,
    UnpackPackages,
)
from releasegate.shared.errors import NOT_FOUND, ReleasegateError
from releasegate.shared.readmodels.releases import system_task_json
from releasegate.shared.readmodels.system_tasks import SystemTaskView

router = APIRouter(tags=["release"])

PackageIdText = Annotated[str, Field(pattern=r"^[0-9]{1,19}$")]


def _distinct(ids: list[str]) -> list[str]:
    if len(set(ids)) != len(ids):
        raise ValueError("package_ids must not repeat an id")
    return ids


class DeployBody(BaseModel):
    package_ids: list[PackageIdText] = Field(min_length=1, max_length=100)
    startup_mode: Literal[0, 1] = Field(
        1, description="1: start the released jobs at once; 0: do not start them."
    )

    _unique = field_validator("package_ids")(_distinct)


class DeployDetail(BaseModel):
    asy_subtask_num: int
    asy_task_id: str
    package_id: int


class DeployResult(BaseModel):
    deploy_package_details: list[DeployDetail]


@router.post(
    "/v2/{project_id}/factory/release-packages/deploy",
    response_model=DeployResult,
    responses={**ERROR_RESPONSES, 409: ERROR_RESPONSES[400]},
    summary="Approve and release packages (asynchronous; poll asy_task_id)",
    description="All-or-nothing validation: if any id is unknown, not awaiting review, or "
    "not releasable by the caller, nothing is released and the 400 names it. Each package "
    "then records the caller's approval and is released once the workspace's approval count "
    "is reached. A package decided by a concurrent call meanwhile is reported in a 409 that "
    "also lists the ones this call released (poll their asy_task_id).",
)
async def deploy(
    ctx: Context,
    body: DeployBody,
    caller: Annotated[Caller, Depends(allowed("deploy_packages"))],
    idempotency_id: Idempotent,  # a retry with the same key gets the first answer
) -> DeployResult:
    result = await ask(
        ctx,
        caller,
        REVIEW_INBOX.name,
        DEPLOY_PACKAGES,
        DeployPackages(
            actor=actor(caller), package_ids=body.package_ids, startup_mode=body.startup_mode
        ),
    )
    return DeployResult.model_validate(result)


class UnpackBody(BaseModel):
    package_ids: list[PackageIdText] = Field(min_length=1, max_length=100)
    reason: Annotated[str, Field(max_length=512)] = Field(
        "", description="(releasegate) Why; recorded in the audit trail."
    )

    _unique = field_validator("package_ids")(_distinct)


@router.post(
    "/v2/{project_id}/factory/release-packages/unpack",
    status_code=200,
    response_class=Response,
    responses=ERROR_RESPONSES,
    summary="Revoke packages: the applicant withdraws, a deployer or admin rejects",
)
async def unpack(
    ctx: Context,
    body: UnpackBody,
    caller: Annotated[Caller, Depends(allowed("unpack_packages"))],
    idempotency_id: Idempotent,  # a retry with the same key gets the first answer
) -> Response:
    await ask(
        ctx,
        caller,
        REVIEW_INBOX.name,
        UNPACK_PACKAGES,
        UnpackPackages(actor=actor(caller), package_ids=body.package_ids, reason=body.reason),
    )
    return Response(status_code=200)


@router.get(
    "/v1/{project_id}/system-tasks/{task_id}",
    response_model=SystemTaskView,
    responses=ERROR_RESPONSES,
    summary="Poll an asynchronous release (asy_task_id of the deploy call)",
    description="status: RUNNING, then SUCCESSFUL or FAILED; WAITING_APPROVAL while the "
    "package waits for more approvals. One subtask per task of the package.",
)
async def get_system_task(
    ctx: Context,
    task_id: Annotated[str, Path(pattern=r"^[0-9]{1,19}$")],
    caller: Annotated[Caller, Depends(allowed("system_task"))],
) -> Response:
    body = await system_task_json(ctx.db, caller.project_id, caller.workspace_id, task_id)
    if body is None:
        raise ReleasegateError(NOT_FOUND, f"Task {task_id} does not exist.")
    # Already rendered to the response model's JSON (by the review service, mostly).
    return Response(body, media_type="application/json")
