"""Task extensions (in memory): view the diff, revoke."""

from __future__ import annotations

import pytest

from releasegate.shared.readmodels.pending_items import TASKS
from tests.flows import Flow
from tests.helpers import eventually
from tests.unit.conftest import Api
from tests.unit.test_packages_api import error


@pytest.fixture
def flow(api: Api) -> Flow:
    return Flow(api.http, api.tokens, "demo")


async def diff_of(api: Api, pending_item_id: str) -> dict:  # type: ignore[type-arg]
    r = await api.http.get(
        f"/v2/demo/factory/pending-items/{pending_item_id}/diff", headers=api.headers()
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_script_diff_against_previous_and_production(api: Api, flow: Flow) -> None:
    v1 = await flow.submit("load.sql", 1, task_type="script", content="select a\nfrom t;\n")
    first = await diff_of(api, v1["pending_item_id"])
    assert first["against_previous"] is None and first["against_production"] is None
    package_id = await flow.package([v1["pending_item_id"]])
    r = await flow.deploy([package_id])
    await flow.until_done(r.json()["deploy_package_details"][0]["asy_task_id"])
    await flow.submit("load.sql", 2, task_type="script", content="select a, b\nfrom t;\n")
    v3 = await flow.submit("load.sql", 3, task_type="script", content="select a, b, c\nfrom t;\n")
    d = await diff_of(api, v3["pending_item_id"])
    prev, prod = d["against_previous"], d["against_production"]
    assert prev["version"] == 2 and prod["version"] == 1
    assert prev["diff"] == (
        "--- load.sql v2\n+++ load.sql v3\n@@ -1,2 +1,2 @@\n"
        "-select a, b\n+select a, b, c\n from t;\n"
    )
    assert "-select a\n" in prod["diff"] and "+select a, b, c\n" in prod["diff"]


async def test_job_diff_is_key_ordered_json(api: Api, flow: Flow) -> None:
    await flow.submit("job", 1, content={"b": 1, "a": {"y": 2, "x": 1}})
    v2 = await flow.submit("job", 2, content={"a": {"x": 1, "y": 3}, "b": 1})
    diff = (await diff_of(api, v2["pending_item_id"]))["against_previous"]["diff"]
    assert diff.splitlines()[2:] == [
        "@@ -1,7 +1,7 @@",
        " {",
        '   "a": {',
        '     "x": 1,',
        '-    "y": 2',
        '+    "y": 3',
        "   },",
        '   "b": 1',
        " }",
    ]
    error(
        await api.http.get("/v2/demo/factory/pending-items/999/diff", headers=api.headers()),
        400,
        "DLF.0810",
    )


async def test_revoked_package_task_returns_and_newer_version_wins(api: Api, flow: Flow) -> None:
    v1 = (await flow.submit("item", 1))["pending_item_id"]
    package_id = await flow.package([v1])
    v2 = (await flow.submit("item", 2))["pending_item_id"]
    assert v2 != v1
    assert (await flow.unpack([package_id], user="dev")).status_code == 200

    async def only_v2() -> bool:
        data = (await flow.pending())["data"]
        return [(d["pending_item_id"], d["pending_version"]) for d in data] == [(v2, 2)]

    await eventually(only_v2, what="the returning v1 task superseded by v2")
    doc = await api.system.db.collection(TASKS).find_one({"_id": v1})
    assert doc is not None and doc["state"] == "superseded" and doc["superseded_by"] == v2
