"""A page of a listing and the total it is cut from."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from releasegate.shared.store.base import Collection, Doc, Filter, Sort


async def find_page(
    coll: Collection,
    filt: Filter,
    *,
    sort: Sort,
    skip: int,
    limit: int,
    projection: Mapping[str, int] | None = None,
) -> tuple[list[Doc], int]:
    """The page and the count, read together (one round trip of latency, not two)."""
    page: tuple[list[Doc], int] = await asyncio.gather(
        coll.find(filt, sort=sort, skip=skip, limit=limit, projection=projection),
        coll.count(filt),
    )
    return page
