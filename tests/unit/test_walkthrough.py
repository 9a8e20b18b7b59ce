"""examples/walkthrough.py, the README's tour of the whole flow, runs against the
embedded system with the credentials ``make run`` writes, and ends in production."""

from __future__ import annotations

from examples.walkthrough import walk
from tests.embedded import embedded_api


async def test_the_walkthrough_releases_a_new_item_to_production() -> None:
    async with embedded_api() as (_, http, credentials):
        lines: list[str] = []
        first = await walk(http, credentials, say=lines.append, timeout_s=10)
        second = await walk(http, credentials, say=lines.append, timeout_s=10)

    assert first["system_task"]["status"] == "SUCCESSFUL"
    assert first["details"]["release_package"]["deploy_status"] == 2
    [task] = first["details"]["task_details"]
    assert (task["deploy_status"], task["start_job_status"]) == (2, 2)
    assert first["production"]["version"] == 1
    # Each run submits an item of its own, so the tour can be repeated.
    assert second["production"]["item_name"] != first["production"]["item_name"]
    assert len(lines) == 14 and lines[0].startswith("1. dev submits")
