"""Release packages: create, query, details, audit trail, compare versions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from releasegate.gateway.auth import Caller, allowed
from releasegate.gateway.context import Context
from releasegate.gateway.errors import ERROR_RESPONSES
from releasegate.gateway.idempotency import Idempotent
from releasegate.gateway.rpc import actor, ask
from releasegate.shared.bus.topology import REVIEW_INBOX
from releasegate.shared.contracts.packages import CREATE_PACKAGE, CreatePackage
from releasegate.shared.errors import NOT_FOUND, ReleasegateError
from releasegate.shared.readmodels.packages import (
    PACKAGES,
    OrderColumn,
    PackageQuery,
    PackageView,
    list_packages,
)
from releasegate.shared.readmodels.releases import (
    AuditEntry,
    PackageComparison,
    PackageDetails,
    audit_trail,
    compare_packages,
    package_details,
)

router = APIRouter(tags=["release packages"])

PackageId = Annotated[str, Path(pattern=r"^[0-9]{1,19}$", description="Release package id")]
Name = Annotated[str, Field(min_length=1, max_length=128)]
Id = Annotated[str, Field(min_length=1, max_length=64)]


class CreatePackageBody(BaseModel):
    """Unknown fields are ignored (newer clients may send more)."""

    apply_user_id: Id | None = None
    package_name: Name
    pending_item_list: list[Id] = Field(min_length=1, max_length=100)
    approver_ids: list[Id] = Field(min_length=1, max_length=20)


class CreatedPackage(BaseModel):
    package_name: str
    release_package_id: str


@router.post(
    "/v2/{project_id}/factory/pending-items/package",
    response_model=CreatedPackage,
    responses=ERROR_RESPONSES,
    summary="Create a release package from pending items",
)
async def create_package(
    ctx: Context,
    body: CreatePackageBody,
    caller: Annotated[Caller, Depends(allowed("create_package"))],
    idempotency_id: Idempotent,  # a retry with the same key gets the first answer
) -> CreatedPackage:
    result = await ask(
        ctx,
        caller,
        REVIEW_INBOX.name,
        CREATE_PACKAGE,
        CreatePackage(
            actor=actor(caller),
            package_name=body.package_name,
            apply_user_id=body.apply_user_id,
            pending_item_ids=body.pending_item_list,
            approver_ids=body.approver_ids,
        ),
    )
    return CreatedPackage.model_validate(result)


class PackageQueryBody(BaseModel):
    key_word: Annotated[str, Field(max_length=128)] | None = None
    apply_user_name: Annotated[str, Field(max_length=128)] | None = None
    deploy_user_name: Annotated[str, Field(max_length=128)] | None = None
    apply_begin_time: Annotated[int, Field(ge=0)] | None = None
    apply_end_time: Annotated[int, Field(ge=0)] | None = None
    deploy_begin_time: Annotated[int, Field(ge=0)] | None = None
    deploy_end_time: Annotated[int, Field(ge=0)] | None = None
    apply_user_name_filter: list[Name] = Field(default_factory=list, max_length=100)
    deploy_user_name_filter: list[Name] = Field(default_factory=list, max_length=100)
    deploy_status_filter: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        default_factory=list, max_length=10
    )
    sorted_direction: Literal["asc", "desc"] = "desc"
    order_column: OrderColumn = "apply_timestamp"
    limit: Annotated[int, Field(ge=1, le=100)] = 10
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0


class PackagesPage(BaseModel):
    data: list[PackageView]
    total: int


@router.post(
    "/v2/{project_id}/factory/release-packages",
    response_model=PackagesPage,
    responses=ERROR_RESPONSES,
    summary="Query release packages",
)
async def query_packages(
    ctx: Context,
    caller: Annotated[Caller, Depends(allowed("query_packages"))],
    body: PackageQueryBody | None = None,
) -> PackagesPage:
    b = body or PackageQueryBody()
    query = PackageQuery(
        b.key_word,
        b.apply_user_name,
        b.deploy_user_name,
        b.apply_begin_time,
        b.apply_end_time,
        b.deploy_begin_time,
        b.deploy_end_time,
        tuple(b.apply_user_name_filter),
        tuple(b.deploy_user_name_filter),
        tuple(b.deploy_status_filter),
        b.sorted_direction,
        b.order_column,
        b.limit,
        b.offset,
    )
    data, total = await list_packages(
        ctx.db.collection(PACKAGES), caller.project_id, caller.workspace_id, query
    )
    return PackagesPage(data=data, total=total)


def _unknown(package_id: str) -> ReleasegateError:
    return ReleasegateError(NOT_FOUND, f"Release package {package_id} does not exist.")


@router.get(
    "/v2/{project_id}/factory/release-packages/{package_id}",
    response_model=PackageDetails,
    responses=ERROR_RESPONSES,
    summary="Release package details: each task's release and startup status",
)
async def get_package(
    ctx: Context,
    package_id: PackageId,
    caller: Annotated[Caller, Depends(allowed("package_details"))],
) -> PackageDetails:
    details = await package_details(ctx.db, caller.project_id, caller.workspace_id, package_id)
    if details is None:
        raise _unknown(package_id)
    return details


class AuditTrail(BaseModel):
    package_id: str
    entries: list[AuditEntry]


@router.get(
    "/v2/{project_id}/factory/release-packages/{package_id}/audit",
    response_model=AuditTrail,
    responses=ERROR_RESPONSES,
    summary="(releasegate) Every action on a package: who, when, why",
)
async def get_audit(
    ctx: Context,
    package_id: PackageId,
    caller: Annotated[Caller, Depends(allowed("package_audit"))],
) -> AuditTrail:
    entries = await audit_trail(ctx.db, caller.project_id, caller.workspace_id, package_id)
    if entries is None:
        raise _unknown(package_id)
    return AuditTrail(package_id=package_id, entries=entries)


@router.get(
    "/v2/{project_id}/factory/release-packages/{package_id}/compare/{other_package_id}",
    response_model=PackageComparison,
    responses=ERROR_RESPONSES,
    summary="(releasegate) Compare Version: diff the items of two packages",
)
async def compare(
    ctx: Context,
    package_id: PackageId,
    other_package_id: PackageId,
    caller: Annotated[Caller, Depends(allowed("compare_packages"))],
) -> PackageComparison:
    result = await compare_packages(
        ctx.db, caller.project_id, caller.workspace_id, package_id, other_package_id
    )
    if result is None:
        raise ReleasegateError(
            NOT_FOUND, f"Release package {package_id} or {other_package_id} does not exist."
        )
    return result
