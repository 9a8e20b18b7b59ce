"""Who may release what, approval policy, deploy-call validation (in memory)."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.shared.identity import Role
from tests.flows import Flow
from tests.unit.conftest import Api
from tests.unit.test_packages_api import add_user, error


@pytest.fixture
def flow(api: Api) -> Flow:
    return Flow(api.http, api.tokens, "demo")


async def one_package(flow: Flow, name: str = "x", **kw: Any) -> str:
    item = (await flow.submit(name, 1))["pending_item_id"]
    return await flow.package([item], **kw)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"package_ids": []}, "package_ids"),
        ({"package_ids": [str(i) for i in range(1, 102)]}, "package_ids"),
        ({"package_ids": ["12", "12"]}, "repeat"),
        ({"package_ids": ["12a"]}, "package_ids"),
        ({"package_ids": [12]}, "package_ids"),
        ({"package_ids": ["12"], "startup_mode": 2}, "startup_mode"),
        ({"startup_mode": 1}, "package_ids"),
    ],
)
async def test_deploy_body_is_validated(api: Api, body: dict[str, Any], fragment: str) -> None:
    r = await api.http.post(
        "/v2/demo/factory/release-packages/deploy", json=body, headers=api.headers("deployer")
    )
    error(r, 400, "DLF.0802", fragment)


async def test_developers_cannot_release_and_applicants_need_four_eyes(
    api: Api, flow: Flow
) -> None:
    package_id = await one_package(flow)
    error(await flow.deploy([package_id], user="dev"), 403, "DLF.6888")
    await add_user(api, "u-dep2", {"default": [Role.DEPLOYER]})
    own = await one_package(flow, "mine", user="dep2", approvers=["u-deployer"])
    error(await flow.deploy([own], user="dep2"), 400, "DLF.3011")
    # An approver who is not designated on the package may not release it ...
    error(await flow.deploy([package_id], user="dep2"), 400, "DLF.3014")
    # ... but a designated one and an admin may.
    assert (await flow.deploy([own], user="deployer")).status_code == 200
    assert (await flow.deploy([package_id], user="admin")).status_code == 200


async def test_self_release_when_the_policy_allows(api: Api, flow: Flow) -> None:
    r = await api.http.put(
        "/v2/demo/factory/approval-policy",
        json={"required_approvals": 1, "allow_self_release": True},
        headers=api.headers("admin"),
    )
    assert r.status_code == 200 and r.json()["allow_self_release"] is True
    own = await one_package(flow, user="deployer", approvers=["u-admin"])
    r = await flow.deploy([own], user="deployer")
    assert r.status_code == 200, r.text
    error(
        await api.http.put(
            "/v2/demo/factory/approval-policy",
            json={"required_approvals": 0},
            headers=api.headers("admin"),
        ),
        400,
        "DLF.0802",
    )
    error(
        await api.http.put(
            "/v2/demo/factory/approval-policy",
            json={"required_approvals": 2},
            headers=api.headers("deployer"),
        ),
        403,
        "DLF.6888",
    )


async def test_two_approvals_required(api: Api, flow: Flow) -> None:
    r = await api.http.put(
        "/v2/demo/factory/approval-policy",
        json={"required_approvals": 2},
        headers=api.headers("admin"),
    )
    assert r.json() == {"required_approvals": 2, "allow_self_release": False}
    package_id = await one_package(flow, approvers=["u-deployer", "u-admin"])
    first = await flow.deploy([package_id], user="deployer")
    assert first.status_code == 200, first.text
    task_id = first.json()["deploy_package_details"][0]["asy_task_id"]
    waiting = (await flow.system_task(task_id)).json()
    assert waiting["status"] == "WAITING_APPROVAL"
    assert (await flow.details(package_id)).json()["release_package"]["deploy_status"] == 1
    # The same approver again does not count twice.
    again = await flow.deploy([package_id], user="deployer")
    assert again.status_code == 200
    assert (await flow.system_task(task_id)).json()["status"] == "WAITING_APPROVAL"
    second = await flow.deploy([package_id], user="admin")
    assert second.json()["deploy_package_details"][0]["asy_task_id"] == task_id
    done = await flow.until_done(task_id)
    assert done["status"] == "SUCCESSFUL"
    actions = [
        e["action"]
        for e in (
            await api.http.get(
                f"/v2/demo/factory/release-packages/{package_id}/audit", headers=api.headers()
            )
        ).json()["entries"]
    ]
    assert actions[:5] == ["created", "approved", "approved", "released", "task_deployed"]
    assert actions[-1] == "finished"


async def test_a_reviewer_who_lost_the_role_cannot_approve(api: Api, flow: Flow) -> None:
    from releasegate.shared.identity import User

    await add_user(api, "u-dep2", {"default": [Role.DEPLOYER]})
    package_id = await one_package(flow, approvers=["u-dep2"])
    identity = api.system.gateway.context.identity
    await identity.put_user(
        User(
            user_id="u-dep2",
            name="dep2",
            project_id="demo",
            workspace_roles={"default": [Role.VIEWER]},
        )
    )
    error(await flow.deploy([package_id], user="dep2"), 403, "DLF.6888")


async def test_all_or_nothing_when_an_id_is_invalid(api: Api, flow: Flow) -> None:
    good = await one_package(flow, "good")
    rejected = await one_package(flow, "rejected")
    assert (await flow.unpack([rejected])).status_code == 200
    error(await flow.deploy([good, "4242"]), 400, "DLF.0810", "4242")
    error(await flow.deploy([good, rejected]), 400, "DLF.3010", rejected)
    assert (await flow.details(good)).json()["release_package"]["deploy_status"] == 1
    r = await flow.deploy([good])
    assert r.status_code == 200
    # A package being released can be neither released again nor revoked.
    second = await flow.deploy([good])
    assert second.status_code == 400 and second.json()["error_code"] in ("DLF.3012", "DLF.3010")
    await flow.until_done(r.json()["deploy_package_details"][0]["asy_task_id"])
    error(await flow.unpack([good]), 400, "DLF.3010")


async def test_startup_mode_zero_deploys_without_starting(api: Api, flow: Flow) -> None:
    package_id = await one_package(flow, "no_start")
    r = await flow.deploy([package_id], startup_mode=0)
    await flow.until_done(r.json()["deploy_package_details"][0]["asy_task_id"])
    [task] = (await flow.details(package_id)).json()["task_details"]
    assert (task["deploy_status"], task["start_job_status"]) == (2, 0)
