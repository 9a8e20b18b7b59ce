"""(releasegate) What is live in production and what was live when."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from releasegate.gateway.auth import Caller, allowed
from releasegate.gateway.context import Context
from releasegate.gateway.errors import ERROR_RESPONSES
from releasegate.shared.readmodels.production import (
    ProductionChange,
    ProductionItem,
    production_history,
    production_items,
)

router = APIRouter(tags=["production"])
Name = Annotated[str | None, Query(max_length=128, description="Fuzzy match")]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


class ProductionItems(BaseModel):
    data: list[ProductionItem]
    total: int


class ProductionHistory(BaseModel):
    data: list[ProductionChange]
    total: int


@router.get(
    "/v2/{project_id}/factory/production/items",
    response_model=ProductionItems,
    responses=ERROR_RESPONSES,
    summary="(releasegate) Items in production now (catalog target)",
)
async def list_production_items(
    ctx: Context,
    caller: Annotated[Caller, Depends(allowed("production_items"))],
    item_name: Name = None,
    limit: Limit = 10,
    offset: Offset = 0,
) -> ProductionItems:
    data, total = await production_items(
        ctx.db, caller.project_id, caller.workspace_id, item_name, limit, offset
    )
    return ProductionItems(data=data, total=total)


@router.get(
    "/v2/{project_id}/factory/production/history",
    response_model=ProductionHistory,
    responses=ERROR_RESPONSES,
    summary="(releasegate) Every change to production, newest first, with rollbacks",
)
async def list_production_history(
    ctx: Context,
    caller: Annotated[Caller, Depends(allowed("production_history"))],
    item_name: Name = None,
    limit: Limit = 10,
    offset: Offset = 0,
) -> ProductionHistory:
    data, total = await production_history(
        ctx.db, caller.project_id, caller.workspace_id, item_name, limit, offset
    )
    return ProductionHistory(data=data, total=total)
