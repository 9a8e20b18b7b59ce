"""``all_of``: steps run together; an error is raised once every step has ended."""

from __future__ import annotations

import asyncio

import pytest

from releasegate.shared.concurrently import all_of


async def test_steps_run_together_and_a_failure_waits_for_the_others() -> None:
    started: list[str] = []
    finished: list[str] = []

    async def step(name: str, fail: bool = False) -> None:
        started.append(name)
        await asyncio.sleep(0.01 if fail else 0.05)
        if fail:
            raise ValueError(name)
        finished.append(name)

    with pytest.raises(ValueError, match="b"):
        await all_of(step("a"), step("b", fail=True), step("c"))

    assert started == ["a", "b", "c"]  # all began before any ended
    assert finished == ["a", "c"]  # the failure did not leave them running


async def test_no_steps_is_nothing() -> None:
    await all_of()
