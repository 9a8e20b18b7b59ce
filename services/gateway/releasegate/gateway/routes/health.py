from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from releasegate.gateway.context import Context

router = APIRouter(tags=["health"])


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "live"}


@router.get("/health/ready", responses={503: {"description": "Broker or database unreachable"}})
async def ready(ctx: Context) -> JSONResponse:
    ok = ctx.bus.ready and await ctx.db.ping()
    return JSONResponse({"status": "ready" if ok else "not ready"}, status_code=200 if ok else 503)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(ctx: Context) -> str:
    return ctx.bus.metrics.render()
