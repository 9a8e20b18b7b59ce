"""The whole release workflow through the API, in memory."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.deployer.targets.catalog import JOB_RUNS
from releasegate.shared.readmodels.production import CATALOG, HISTORY
from tests.flows import Flow
from tests.unit.conftest import Api


@pytest.fixture
def flow(api: Api) -> Flow:
    return Flow(api.http, api.tokens, "demo")


async def test_submit_package_deploy_poll(api: Api, flow: Flow) -> None:
    job = await flow.submit("orders_etl", 2)
    script = await flow.submit("cleanup.sql", 1, task_type="script")
    package_id = await flow.package(
        [job["pending_item_id"], script["pending_item_id"]], name="nightly"
    )
    listed = await flow.pending()
    assert {d["package_flag"] for d in listed["data"]} == {1}

    r = await flow.deploy([package_id])
    assert r.status_code == 200, r.text
    [detail] = r.json()["deploy_package_details"]
    assert detail["package_id"] == int(package_id) and detail["asy_subtask_num"] == 2
    task = await flow.until_done(detail["asy_task_id"])
    assert task["status"] == "SUCCESSFUL", task
    assert [s["status"] for s in task["subtasks"]] == ["SUCCESSFUL", "SUCCESSFUL"]

    details = (await flow.details(package_id)).json()
    assert details["release_package"]["deploy_status"] == 2
    assert details["release_package"]["deploy_user_name"] == "deployer"
    by_name = {t["item_name"]: t for t in details["task_details"]}
    assert by_name["orders_etl"]["start_job_status"] == 2  # a job, started
    assert by_name["cleanup.sql"]["start_job_status"] == 0  # scripts are not started
    assert all(t["deploy_status"] == 2 for t in details["task_details"])

    db = api.system.db
    catalog = await db.collection(CATALOG).find({}, sort=[("item_name", 1)])
    assert [(c["item_name"], c["version"]) for c in catalog] == [
        ("cleanup.sql", 1),
        ("orders_etl", 2),
    ]
    # Each item's own content reached production (read a package at a time).
    assert [c["content"] for c in catalog] == [
        "-- cleanup.sql v1\nselect 1;\n",
        {"nodes": [{"name": "orders_etl", "v": 2}]},
    ]
    assert await db.collection(HISTORY).count({}) == 2
    assert await db.collection(JOB_RUNS).count({}) == 1

    async def gone() -> Any:
        return (await flow.pending())["total"] == 0

    from tests.helpers import eventually

    await eventually(gone, what="released tasks leave the pending list")
    # The next version of the job is now a modification of what production holds.
    nxt = await flow.submit("orders_etl", 3)
    assert (nxt["update_type"], nxt["deployed_version"]) == (2, 2)
