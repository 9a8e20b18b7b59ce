"""Release packages through the API (in memory): creation rules, queries, details,
revoke, the audit trail and Compare Version."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.shared.identity import Role, TenantRole, User
from releasegate.shared.tokens import mint_token
from tests.flows import Flow
from tests.unit.conftest import Api


@pytest.fixture
def flow(api: Api) -> Flow:
    return Flow(api.http, api.tokens, "demo")


async def add_user(
    api: Api,
    user_id: str,
    roles: dict[str, list[Role]] | None = None,
    tenant: list[TenantRole] | None = None,
) -> str:
    identity = api.system.gateway.context.identity
    await identity.put_user(
        User(
            user_id=user_id,
            name=user_id.removeprefix("u-"),
            project_id="demo",
            workspace_roles=roles or {},
            tenant_roles=tenant or [],
        )
    )
    s = api.system.gateway.context.settings
    token = mint_token(
        user_id, secret=s.token_secret, issuer=s.token_issuer, audience=s.token_audience
    )
    api.tokens[user_id.removeprefix("u-")] = token
    return token


def error(r: Any, status: int, code: str, fragment: str = "") -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error_code"] == code, body
    assert fragment in body["error_msg"], body


async def test_package_fields_and_package_flag(api: Api, flow: Flow) -> None:
    a = await flow.submit("a_job", 1)
    b = await flow.submit("b.sql", 3, task_type="script")
    r = await flow.create_package([a["pending_item_id"], b["pending_item_id"]], name="rel-1")
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"package_name", "release_package_id"}
    package_id = r.json()["release_package_id"]
    assert package_id.isdigit()
    listed = await flow.pending()
    assert {d["package_flag"] for d in listed["data"]} == {1}
    details = (await flow.details(package_id)).json()
    pkg = details["release_package"]
    assert set(pkg) == {
        "package_id",
        "package_name",
        "apply_timestamp",
        "apply_user_id",
        "apply_user_name",
        "deploy_status",
        "deploy_timestamp",
        "deploy_user_id",
        "deploy_user_name",
        "package_approvers",
        "project_id",
        "workspace_id",
        "delete_flag",
    }
    assert (pkg["package_id"], pkg["package_name"], pkg["deploy_status"]) == (
        package_id,
        "rel-1",
        1,
    )
    assert (pkg["apply_user_id"], pkg["apply_user_name"]) == ("u-dev", "dev")
    assert pkg["package_approvers"] == [{"user_id": "u-deployer", "user_name": "deployer"}]
    assert (pkg["project_id"], pkg["workspace_id"], pkg["delete_flag"]) == ("demo", "default", 0)
    assert [t["item_name"] for t in details["task_details"]] == ["a_job", "b.sql"]
    task = details["task_details"][1]
    assert set(task) == {
        "task_id",
        "script_id",
        "item_name",
        "pending_item_id",
        "task_type",
        "update_type",
        "pending_version",
        "deployed_version",
        "deploy_status",
        "start_job_status",
        "submit_timestamp",
        "submit_user_id",
        "submit_user_name",
    }
    assert (
        task["task_type"],
        task["pending_version"],
        task["deploy_status"],
        task["start_job_status"],
    ) == (2, 3, 1, 0)
    assert task["script_id"] == task["task_id"]


async def test_query_filters_sorting_paging(api: Api, flow: Flow) -> None:
    ids = [(await flow.submit(f"job{i}", 1))["pending_item_id"] for i in range(4)]
    await add_user(api, "u-alice", {"default": [Role.DEVELOPER]})
    p0 = await flow.package([ids[0]], name="Nightly ETL")
    p1 = await flow.package([ids[1]], name="weekly-report", user="alice")
    p2 = await flow.package([ids[2]], name="hotfix (urgent)")
    await flow.package([ids[3]], name="nightly cleanup", user="alice")
    r = await flow.deploy([p2])
    await flow.until_done(r.json()["deploy_package_details"][0]["asy_task_id"])
    await flow.unpack([p1], user="alice")

    async def query(**body: Any) -> list[str]:
        r = await api.http.post(
            "/v2/demo/factory/release-packages", json=body, headers=api.headers()
        )
        assert r.status_code == 200, r.text
        return [p["package_name"] for p in r.json()["data"]]

    assert await query() == ["nightly cleanup", "hotfix (urgent)", "weekly-report", "Nightly ETL"]
    assert await query(sorted_direction="asc", limit=2, offset=1) == [
        "weekly-report",
        "hotfix (urgent)",
    ]
    assert await query(key_word="NIGHTLY") == ["nightly cleanup", "Nightly ETL"]
    assert await query(key_word="(urgent)") == ["hotfix (urgent)"]
    assert await query(apply_user_name="ali") == ["nightly cleanup", "weekly-report"]
    assert await query(apply_user_name_filter=["dev"]) == ["hotfix (urgent)", "Nightly ETL"]
    assert await query(deploy_user_name="deployer") == ["hotfix (urgent)"]
    assert await query(deploy_user_name_filter=["nobody"]) == []
    assert await query(deploy_status_filter=[7]) == ["weekly-report"]
    assert await query(
        deploy_status_filter=[1, 2], order_column="package_name", sorted_direction="asc"
    ) == ["Nightly ETL", "hotfix (urgent)", "nightly cleanup"]  # binary order
    detail = (await flow.details(p2)).json()["release_package"]
    t = detail["deploy_timestamp"]
    assert await query(deploy_begin_time=t, deploy_end_time=t) == ["hotfix (urgent)"]
    applied = (await flow.details(p0)).json()["release_package"]["apply_timestamp"]
    assert "Nightly ETL" in await query(apply_begin_time=applied, apply_end_time=applied)
    r = await api.http.post(
        "/v2/demo/factory/release-packages", json={"limit": 1}, headers=api.headers()
    )
    assert r.json()["total"] == 4 and len(r.json()["data"]) == 1
    for bad in (
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"order_column": "x"},
        {"sorted_direction": "up"},
        {"deploy_status_filter": [9]},
    ):
        error(
            await api.http.post(
                "/v2/demo/factory/release-packages", json=bad, headers=api.headers()
            ),
            400,
            "DLF.0802",
        )


async def test_unknown_and_foreign_packages_answer_alike(api: Api, flow: Flow) -> None:
    item = (await flow.submit("x", 1))["pending_item_id"]
    package_id = await flow.package([item])
    await add_user(api, "u-other", {"ws2": [Role.ADMIN, Role.DEPLOYER]})
    identity = api.system.gateway.context.identity
    from releasegate.shared.identity import Project

    await identity.put_project(
        Project(project_id="demo", default_workspace="default", workspaces=["default", "ws2"])
    )
    foreign = await api.http.get(
        f"/v2/demo/factory/release-packages/{package_id}",
        headers=api.headers("other", workspace="ws2"),
    )
    unknown = await api.http.get(
        "/v2/demo/factory/release-packages/4242", headers=api.headers("other", workspace="ws2")
    )
    assert foreign.status_code == unknown.status_code == 400
    assert foreign.json()["error_code"] == unknown.json()["error_code"] == "DLF.0810"
    r = await flow.deploy([package_id], user="other")
    assert r.status_code == 403  # no role in this workspace
    r = await api.http.post(
        "/v2/demo/factory/release-packages/deploy",
        json={"package_ids": [package_id]},
        headers=api.headers("other", workspace="ws2"),
    )
    error(r, 400, "DLF.0810")


async def test_compare_versions_of_two_packages(api: Api, flow: Flow) -> None:
    a1 = (await flow.submit("a", 1))["pending_item_id"]
    b1 = (await flow.submit("b.sql", 1, task_type="script"))["pending_item_id"]
    first = await flow.package([a1, b1])
    r = await flow.deploy([first])
    await flow.until_done(r.json()["deploy_package_details"][0]["asy_task_id"])
    a2 = (await flow.submit("a", 2))["pending_item_id"]
    c1 = (await flow.submit("c", 1))["pending_item_id"]
    second = await flow.package([a2, c1])
    r = await api.http.get(
        f"/v2/demo/factory/release-packages/{first}/compare/{second}", headers=api.headers()
    )
    assert r.status_code == 200, r.text
    changes = {i["item_name"]: i for i in r.json()["items"]}
    assert {k: v["change"] for k, v in changes.items()} == {
        "a": "changed",
        "b.sql": "removed",
        "c": "added",
    }
    assert (changes["a"]["base_version"], changes["a"]["target_version"]) == (1, 2)
    assert '-      "v": 1' in changes["a"]["diff"] and '+      "v": 2' in changes["a"]["diff"]
    assert changes["b.sql"]["diff"].startswith("--- b.sql v1\n+++ /dev/null")
    error(
        await api.http.get(
            f"/v2/demo/factory/release-packages/{first}/compare/77", headers=api.headers()
        ),
        400,
        "DLF.0810",
    )


async def test_only_an_admin_applies_on_behalf_of_another_user(api: Api, flow: Flow) -> None:
    item = (await flow.submit("behalf", 1))["pending_item_id"]
    body = {
        "apply_user_id": "u-deployer",
        "package_name": "p",
        "pending_item_list": [item],
        "approver_ids": ["u-admin"],
    }
    r = await api.http.post(
        "/v2/demo/factory/pending-items/package", json=body, headers=api.headers("dev")
    )
    error(r, 403, "DLF.6888", "on behalf")
    r = await api.http.post(
        "/v2/demo/factory/pending-items/package",
        json={**body, "approver_ids": ["u-deployer"], "apply_user_id": "u-dev"},
        headers=api.headers("admin"),
    )
    assert r.status_code == 200, r.text
    package_id = r.json()["release_package_id"]
    pkg = (await flow.details(package_id)).json()["release_package"]
    assert (pkg["apply_user_id"], pkg["apply_user_name"]) == ("u-dev", "dev")
