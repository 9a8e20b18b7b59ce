"""Independent steps run together, failing as one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def all_of(*steps: Awaitable[Any]) -> None:
    """Run ``steps`` concurrently and wait for every one, then raise the first error.

    Unlike a bare ``gather``, no step is left running unobserved after another fails:
    a caller that retries on the error does so once all of them have ended."""
    results = await asyncio.gather(*steps, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
