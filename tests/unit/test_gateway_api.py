"""The gateway over the embedded system: auth, the events ingress, pending-items
listing and filters, and error bodies."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.shared.identity import Project, Role, User
from releasegate.shared.tokens import mint_token
from tests.events import version_submitted
from tests.helpers import eventually
from tests.unit.conftest import Api

LIST = "/v2/demo/factory/pending-items"
EVENTS = "/v2/demo/factory/events"


def assert_error(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error_code", "error_msg"} and body["error_code"] == code, body


async def test_token_is_required_and_verified(api: Api) -> None:
    assert_error(await api.http.get(LIST), 401, "DLF.1001")
    assert_error(await api.http.get(LIST, headers={"X-Auth-Token": "nope"}), 401, "DLF.1001")
    settings = api.system.gateway.context.settings
    forged = mint_token(
        "u-dev",
        secret="another-secret-of-enough-length-32b",
        issuer=settings.token_issuer,
        audience=settings.token_audience,
    )
    assert_error(await api.http.get(LIST, headers={"X-Auth-Token": forged}), 401, "DLF.1001")
    expired = mint_token(
        "u-dev",
        secret=settings.token_secret,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl_s=1,
        now=1_000_000,
    )
    assert_error(await api.http.get(LIST, headers={"X-Auth-Token": expired}), 401, "DLF.1001")


async def test_other_projects_and_workspaces_are_closed(api: Api) -> None:
    assert_error(
        await api.http.get("/v2/other/factory/pending-items", headers=api.headers()),
        403,
        "DLF.6888",
    )
    assert_error(
        await api.http.get(LIST, headers=api.headers(workspace="elsewhere")), 403, "DLF.6888"
    )


async def test_viewer_may_list_but_not_ingest(api: Api) -> None:
    viewer = await api.add_user(
        User(
            user_id="u-view",
            name="viewer",
            project_id="demo",
            workspace_roles={"default": [Role.VIEWER]},
        )
    )
    assert (await api.http.get(LIST, headers=viewer)).status_code == 200
    r = await api.http.post(EVENTS, json=version_submitted(), headers=viewer)
    assert_error(r, 403, "DLF.6888")


async def test_ingested_event_becomes_a_listed_pending_item(api: Api) -> None:
    r = await api.http.post(
        EVENTS, json=version_submitted("orders_etl", 3, submitter="u-dev"), headers=api.headers()
    )
    assert r.status_code == 202 and r.json()["type"] == "job.version.submitted"
    page = await eventually(lambda: _list(api), what="the pending item")
    assert page["total"] == 1
    item = page["data"][0]
    assert item == {
        "pending_item_id": item["pending_item_id"],
        "task_id": item["task_id"],
        "item_name": "orders_etl",
        "task_type": 1,
        "update_type": 1,
        "pending_version": 3,
        "deployed_version": 0,
        "package_flag": 0,
        "project_id": "demo",
        "submit_timestamp": 1_763_700_000_000,
        "submit_user_id": "u-dev",
        "submit_user_name": "dev",
    }
    assert item["pending_item_id"].isdigit() and isinstance(item["task_id"], str)


async def _list(api: Api, **params: Any) -> dict[str, Any] | None:
    r = await api.http.get(LIST, params=params, headers=api.headers())
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body if body["data"] else None


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        ({"type": "job.version.submitted", "payload": {"item_name": "x"}}, "payload"),
        ({"type": "job.unknown", "payload": {}}, "Unknown upstream event"),
        ({"type": "task.created", "payload": {}}, "Unknown upstream event"),
        (
            {
                "type": "job.version.submitted",
                "schema_version": 2,
                "payload": version_submitted()["payload"],
            },
            "Unknown upstream event",
        ),
        ({**version_submitted(), "project_id": "other"}, "does not match"),
    ],
)
async def test_bad_events_are_refused_with_a_reason(
    api: Api, event: dict[str, Any], fragment: str
) -> None:
    r = await api.http.post(EVENTS, json=event, headers=api.headers())
    assert_error(r, 400, "DLF.2001")
    assert fragment in r.json()["error_msg"]


async def test_malformed_body_and_unknown_fields_are_400(api: Api) -> None:
    r = await api.http.post(
        EVENTS, content=b"{nope", headers={**api.headers(), "Content-Type": "application/json"}
    )
    assert_error(r, 400, "DLF.0802")
    r = await api.http.post(
        EVENTS, json={**version_submitted(), "surprise": 1}, headers=api.headers()
    )
    assert_error(r, 400, "DLF.0802")


async def test_body_size_is_limited(api: Api) -> None:
    big = version_submitted(content={"blob": "x" * 70_000})
    assert_error(await api.http.post(EVENTS, json=big, headers=api.headers()), 413, "DLF.1002")


async def test_unknown_route_and_method(api: Api) -> None:
    assert_error(await api.http.get("/v2/demo/factory/nothing"), 404, "DLF.1004")
    # A trailing slash is another path, answered like any unknown one (not a redirect).
    assert_error(await api.http.get(LIST + "/", headers=api.headers()), 404, "DLF.1004")
    assert_error(await api.http.delete(LIST, headers=api.headers()), 405, "DLF.1005")


async def _seed_items(api: Api) -> None:
    events = [
        version_submitted("Orders.Daily", 1, submitter="u-dev", submitter_name="dev", at=1000),
        version_submitted("orders (weekly)", 2, submitter="u-dev", submitter_name="dev", at=2000),
        version_submitted(
            "billing", 1, task_type="script", submitter="u-admin", submitter_name="admin", at=3000
        ),
        version_submitted(
            "old_thing", 5, deleted=True, submitter="u-admin", submitter_name="admin", at=4000
        ),
    ]
    for e in events:
        # An admin may publish for others, as an upstream system's account does.
        r = await api.http.post(EVENTS, json=e, headers=api.headers("admin"))
        assert r.status_code == 202, r.text
    await eventually(lambda: _total_is(api, 4), what="four items")


async def _total_is(api: Api, n: int) -> bool:
    page = await _list(api)
    return page is not None and page["total"] == n


async def _names(api: Api, **params: Any) -> list[str]:
    r = await api.http.get(LIST, params=params, headers=api.headers())
    assert r.status_code == 200, r.text
    return [d["item_name"] for d in r.json()["data"]]


async def test_filters_sorting_and_paging(api: Api) -> None:
    await _seed_items(api)
    assert await _names(api) == ["old_thing", "billing", "orders (weekly)", "Orders.Daily"]
    assert await _names(api, item_name="ORDERS") == ["orders (weekly)", "Orders.Daily"]
    assert await _names(api, item_name="s (w") == ["orders (weekly)"]
    assert await _names(api, item_name=".") == ["Orders.Daily"]
    assert await _names(api, item_name="[a-z]+") == []
    assert await _names(api, submit_user_name="admin") == ["old_thing", "billing"]
    assert await _names(api, update_type=3) == ["old_thing"]
    assert await _names(api, task_type=2) == ["billing"]
    assert await _names(api, start_time=2000, end_time=3000) == ["billing", "orders (weekly)"]
    r = await api.http.get(LIST, params={"limit": 2, "offset": 1}, headers=api.headers())
    assert [d["item_name"] for d in r.json()["data"]] == ["billing", "orders (weekly)"]
    assert r.json()["total"] == 4


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"update_type": 4},
        {"task_type": "job"},
        {"start_time": "yesterday"},
    ],
)
async def test_invalid_query_parameters_are_400(api: Api, params: dict[str, Any]) -> None:
    r = await api.http.get(LIST, params=params, headers=api.headers())
    assert_error(r, 400, "DLF.0802")


async def test_workspace_header_falls_back_to_the_project_default(api: Api) -> None:
    identity = api.system.gateway.context.identity
    await identity.put_project(
        Project(project_id="demo", default_workspace="default", workspaces=["default", "second"])
    )
    await api.http.post(EVENTS, json=version_submitted("in_default"), headers=api.headers())
    await eventually(lambda: _list(api), what="item")
    r = await api.http.get(LIST, headers=api.headers(workspace="default"))
    assert r.json()["total"] == 1


async def test_health_endpoints(api: Api) -> None:
    assert (await api.http.get("/health/live")).json() == {"status": "live"}
    assert (await api.http.get("/health/ready")).status_code == 200
    await api.http.post(EVENTS, json=version_submitted(), headers=api.headers())
    metrics = (await api.http.get("/metrics")).text
    assert 'releasegate_published_total{routing_key="job.version.submitted"} 1' in metrics
