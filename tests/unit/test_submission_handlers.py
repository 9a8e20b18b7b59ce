"""Upstream events through the submission service (in memory): tasks, versions,
imports, real-time jobs, ordering and duplicates."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.cli.embedded import Embedded, build_embedded
from releasegate.shared.bus.base import Bus
from releasegate.shared.contracts import Envelope
from releasegate.shared.readmodels.pending_items import TASKS
from releasegate.submission.repository import VERSIONS
from tests.events import version_submitted
from tests.helpers import eventually
from tests.unit.conftest import Api


def envelope(event: dict[str, Any], project: str = "demo", ws: str = "default") -> Envelope:
    return Envelope.model_validate({**event, "project_id": project, "workspace_id": ws})


async def open_tasks(system: Embedded, **filt: Any) -> list[dict[str, Any]]:
    return await system.db.collection(TASKS).find(
        {"state": {"$in": ["pending", "packaged"]}, **filt}, sort=[("item_name", 1)]
    )


async def post(api: Api, event: dict[str, Any], user: str = "dev") -> None:
    r = await api.http.post("/v2/demo/factory/events", json=event, headers=api.headers(user))
    assert r.status_code == 202, r.text


async def test_first_version_then_newer_supersedes(api: Api) -> None:
    await post(api, version_submitted("orders", 1))
    [task] = await eventually(lambda: open_tasks(api.system), what="task")
    assert (task["pending_version"], task["update_type"], task["task_type"]) == (1, 1, 1)
    await post(api, version_submitted("orders", 2))
    await eventually(lambda: _version_is(api.system, 2), what="superseded to v2")
    tasks = await open_tasks(api.system)
    assert len(tasks) == 1 and tasks[0]["_id"] == task["_id"]


async def _version_is(system: Embedded, v: int) -> bool:
    tasks = await open_tasks(system)
    return len(tasks) == 1 and tasks[0]["pending_version"] == v


async def test_deleted_item_gives_a_delete_task_and_scripts_keep_text(api: Api) -> None:
    await post(api, version_submitted("cleanup.sql", 1, task_type="script"))
    await post(api, version_submitted("gone_job", 4, deleted=True))
    tasks = await eventually(lambda: _n_tasks(api.system, 2), what="two tasks")
    by_name = {t["item_name"]: t for t in tasks}
    assert by_name["gone_job"]["update_type"] == 3
    script = by_name["cleanup.sql"]
    assert script["task_type"] == 2 and script["script_id"] == script["task_id"]
    version = await api.system.db.collection(VERSIONS).find_one({"item_key": script["item_key"]})
    assert version is not None and version["content"].startswith("-- cleanup.sql v1")


async def _n_tasks(system: Embedded, n: int) -> list[dict[str, Any]] | None:
    tasks = await open_tasks(system)
    return tasks if len(tasks) == n else None


async def test_import_makes_tasks_only_for_submitted_jobs(api: Api) -> None:
    await post(
        api,
        {
            "type": "job.imported",
            "payload": {
                "jobs": [
                    {"item_name": "a", "version": 2, "status": "submitted", "content": {}},
                    {"item_name": "b", "version": 5, "status": "released", "content": {}},
                ],
                "importer_id": "u-admin",
                "importer_name": "admin",
                "imported_at": 5,
            },
        },
        user="admin",
    )
    [task] = await eventually(lambda: open_tasks(api.system), what="one task")
    assert task["item_name"] == "a"
    # b is recorded as deployed: its next version is a modification, older ones nothing.
    await post(api, version_submitted("b", 4))
    await post(api, version_submitted("b", 6))
    tasks = await eventually(lambda: _n_tasks(api.system, 2), what="b's task")
    b = next(t for t in tasks if t["item_name"] == "b")
    assert (b["pending_version"], b["update_type"]) == (6, 2)


async def test_realtime_job_with_subjobs_makes_one_task(api: Api) -> None:
    await post(
        api,
        {
            "type": "job.created",
            "payload": {
                "item_name": "rt",
                "content": {"mode": "REAL_TIME"},
                "subjobs": ["rt_1", "rt_2"],
                "creator_id": "u-dev",
                "creator_name": "dev",
                "created_at": 9,
            },
        },
    )
    tasks = await eventually(lambda: open_tasks(api.system), what="task")
    assert [t["item_name"] for t in tasks] == ["rt"]
    await asyncio.sleep(0.05)
    assert len(await open_tasks(api.system)) == 1


async def test_task_created_and_superseded_are_announced(api: Api) -> None:
    bus: Bus = api.system.workers[0].bus  # the submission service's client
    await post(api, version_submitted("x", 1))
    await post(api, version_submitted("x", 2))
    await eventually(lambda: _version_is(api.system, 2), what="v2")

    async def superseded_announced() -> bool:
        return bus.metrics.value("published_total", routing_key="task.superseded") == 1

    await eventually(superseded_announced, what="task.superseded published")
    assert bus.metrics.value("published_total", routing_key="task.created") == 1
    task = (await open_tasks(api.system))[0]
    raw = await api.system.db.collection(TASKS).find_one({"_id": task["_id"]})
    # Announced before the item is saved, so the task needs no outbox (see
    # test_submission_announce for crashes in between).
    assert raw is not None and not raw.get("outbox")


async def _deliver_all(events: list[dict[str, Any]]) -> Embedded:
    system = build_embedded(retry_delays_ms=[5, 10])
    await system.start()
    bus = system.gateway.context.bus
    for event in events:
        await bus.publish(envelope(event))
    return system


@settings(max_examples=25, deadline=None)
@given(
    versions=st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=15),
    seed=st.integers(0, 10_000),
)
def test_any_order_and_duplicates_give_one_task_at_the_newest_version(
    versions: list[int], seed: int
) -> None:
    async def scenario() -> None:
        events = [version_submitted("prop", v, message_id=f"m{v}") for v in versions]
        events += [version_submitted("prop", v) for v in versions[: len(versions) // 2]]
        random.Random(seed).shuffle(events)
        system = await _deliver_all(events)
        try:
            expected = sorted(set(versions))
            stored = system.db.collection(VERSIONS)

            async def settled() -> bool:
                vs = await stored.find({}, sort=[("version", 1)])
                tasks = await open_tasks(system)
                return (
                    [v["version"] for v in vs] == expected
                    and len(tasks) == 1
                    and tasks[0]["pending_version"] == expected[-1]
                )

            await eventually(settled, timeout=5, what="one task at the newest version")
            all_tasks = await system.db.collection(TASKS).find({})
            assert len(all_tasks) == 1
        finally:
            await system.stop()

    asyncio.run(scenario())


async def test_only_the_newest_100_versions_are_kept(api: Api) -> None:
    bus = api.system.gateway.context.bus
    for v in range(1, 106):
        await bus.publish(envelope(version_submitted("big", v)))

    async def trimmed() -> bool:
        vs = await api.system.db.collection(VERSIONS).find({}, sort=[("version", 1)])
        return len(vs) == 100 and vs[0]["version"] == 6 and vs[-1]["version"] == 105

    await eventually(trimmed, what="100 newest versions")
