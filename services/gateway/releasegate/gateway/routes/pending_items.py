"""GET /v2/{project_id}/factory/pending-items: release tasks waiting for release."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from releasegate.gateway.auth import Caller, allowed
from releasegate.gateway.context import Context
from releasegate.gateway.errors import ERROR_RESPONSES
from releasegate.shared.readmodels.pending_items import (
    TASKS,
    PendingItemQuery,
    PendingItemView,
    list_pending_items,
)

router = APIRouter(tags=["pending items"])


class PendingItemsPage(BaseModel):
    data: list[PendingItemView]
    total: int


@router.get(
    "/v2/{project_id}/factory/pending-items",
    response_model=PendingItemsPage,
    responses=ERROR_RESPONSES,
    summary="List release tasks (pending items)",
)
async def get_pending_items(
    ctx: Context,
    caller: Annotated[Caller, Depends(allowed("list_pending_items"))],
    submit_user_name: Annotated[str | None, Query(max_length=128)] = None,
    item_name: Annotated[str | None, Query(max_length=128, description="Fuzzy match")] = None,
    update_type: Annotated[
        int | None, Query(ge=1, le=3, description="1 add, 2 modify, 3 delete")
    ] = None,
    task_type: Annotated[
        int | None, Query(ge=1, le=3, description="1 job, 2 script, 3 resource")
    ] = None,
    start_time: Annotated[int | None, Query(ge=0, description="ms since epoch")] = None,
    end_time: Annotated[int | None, Query(ge=0, description="ms since epoch")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PendingItemsPage:
    query = PendingItemQuery(
        submit_user_name, item_name, update_type, task_type, start_time, end_time, limit, offset
    )
    data, total = await list_pending_items(
        ctx.db.collection(TASKS), caller.project_id, caller.workspace_id, query
    )
    return PendingItemsPage(data=data, total=total)
