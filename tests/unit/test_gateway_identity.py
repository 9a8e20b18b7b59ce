"""Identity administration endpoints and isolation between projects and workspaces."""

from __future__ import annotations

from typing import Any

from releasegate.shared.identity import Project, Role, TenantRole, User
from tests.events import version_submitted
from tests.helpers import eventually
from tests.unit.conftest import Api
from tests.unit.test_gateway_api import assert_error

USERS = "/v2/demo/releasegate/users"
LIST = "/v2/demo/factory/pending-items"
EVENTS = "/v2/demo/factory/events"


async def _setup(api: Api) -> dict[str, dict[str, str]]:
    """Project demo gets a second workspace; project other exists with its own user."""
    identity = api.system.gateway.context.identity
    await identity.put_project(
        Project(project_id="demo", default_workspace="default", workspaces=["second"])
    )
    await identity.put_project(Project(project_id="other", default_workspace="main"))
    return {
        "tenant": await api.add_user(
            User(
                user_id="u-tenant",
                name="tenant",
                project_id="demo",
                tenant_roles=[TenantRole.TENANT_ADMINISTRATOR],
            ),
        ),
        "second-dev": await api.add_user(
            User(
                user_id="u-second",
                name="second",
                project_id="demo",
                workspace_roles={"second": [Role.DEVELOPER, Role.ADMIN]},
            ),
        ),
        "foreign": await api.add_user(
            User(
                user_id="u-foreign",
                name="foreign",
                project_id="other",
                workspace_roles={"main": [Role.ADMIN]},
            ),
        ),
    }


async def test_tenant_admin_creates_a_user_and_workspace_admin_grants_roles(api: Api) -> None:
    h = await _setup(api)
    r = await api.http.put(f"{USERS}/u-carol", json={"name": "carol"}, headers=h["tenant"])
    assert r.status_code == 200, r.text
    assert r.json() == {
        "user_id": "u-carol",
        "name": "carol",
        "roles": [],
        "tenant_roles": [],
        "disabled": False,
    }
    r = await api.http.put(
        f"{USERS}/u-carol/roles", json={"roles": ["deployer"]}, headers=api.headers("admin")
    )
    assert r.json()["roles"] == ["deployer"]
    carol = await api.system.gateway.context.identity.get_user("u-carol")
    assert carol is not None and carol.workspace_roles == {"default": [Role.DEPLOYER]}
    # The admin of 'default' is nobody in 'second'.
    r = await api.http.put(
        f"{USERS}/u-carol/roles",
        json={"roles": ["admin"]},
        headers=api.headers("admin", workspace="second"),
    )
    assert_error(r, 403, "DLF.6888")
    # Revoking everything leaves the other workspaces alone.
    await api.http.put(
        f"{USERS}/u-second/roles", json={"roles": ["viewer"]}, headers=api.headers("admin")
    )
    await api.http.put(f"{USERS}/u-second/roles", json={"roles": []}, headers=api.headers("admin"))
    second = await api.system.gateway.context.identity.get_user("u-second")
    assert second is not None and second.workspace_roles == {"second": [Role.DEVELOPER, Role.ADMIN]}


async def test_disabled_users_are_locked_out(api: Api) -> None:
    h = await _setup(api)
    r = await api.http.put(
        f"{USERS}/u-dev", json={"name": "dev", "disabled": True}, headers=h["tenant"]
    )
    assert r.json()["disabled"] is True
    assert_error(await api.http.get(LIST, headers=api.headers("dev")), 401, "DLF.1001")


async def test_listing_shows_only_this_project_and_this_workspaces_roles(api: Api) -> None:
    h = await _setup(api)
    r = await api.http.get(USERS, headers=api.headers("admin"))
    body = r.json()
    names = [u["name"] for u in body["users"]]
    assert names == ["admin", "deployer", "dev", "second", "tenant"] and body["total"] == 5
    second = next(u for u in body["users"] if u["user_id"] == "u-second")
    assert second["roles"] == []  # its roles in 'second' are not this workspace's business
    r = await api.http.get(USERS, headers={**h["second-dev"], "workspace": "second"})
    second = next(u for u in r.json()["users"] if u["user_id"] == "u-second")
    assert second["roles"] == ["admin", "developer"]


async def test_users_of_other_projects_answer_as_unknown_ones(api: Api) -> None:
    h = await _setup(api)
    body = {"roles": ["viewer"]}
    foreign = await api.http.put(f"{USERS}/u-foreign/roles", json=body, headers=h["tenant"])
    unknown = await api.http.put(f"{USERS}/u-nobody/roles", json=body, headers=h["tenant"])
    assert_error(foreign, 400, "DLF.0802")
    assert foreign.json()["error_msg"].replace("u-foreign", "X") == unknown.json()[
        "error_msg"
    ].replace("u-nobody", "X")
    # Their ids are taken, though: ids are global.
    r = await api.http.put(f"{USERS}/u-foreign", json={"name": "x"}, headers=h["tenant"])
    assert_error(r, 409, "DLF.1030")
    foreign_user = await api.system.gateway.context.identity.get_user("u-foreign")
    assert foreign_user is not None and foreign_user.name == "foreign"


async def _total(api: Api, headers: dict[str, str], path: str = LIST) -> Any:
    r = await api.http.get(path, headers=headers)
    return r.json().get("total") if r.status_code == 200 else r.status_code


async def test_workspaces_and_projects_never_see_each_others_data(api: Api) -> None:
    h = await _setup(api)
    second = {**h["second-dev"], "workspace": "second"}
    r = await api.http.post(EVENTS, json=version_submitted("in_second"), headers=second)
    assert r.status_code == 202, r.text
    assert r.json()["message_id"]
    await eventually(lambda: _total(api, second), what="the item in 'second'")
    assert await _total(api, second) == 1
    assert await _total(api, api.headers("dev")) == 0  # default workspace
    assert await _total(api, api.headers("admin", workspace="default")) == 0
    # A tenant admin reads 'second' only when asking for it.
    assert await _total(api, h["tenant"]) == 0
    assert await _total(api, {**h["tenant"], "workspace": "second"}) == 1
    # Another project's user, on this project's path or its own.
    assert await _total(api, h["foreign"]) == 403
    assert await _total(api, h["foreign"], "/v2/other/factory/pending-items") == 0
    # Workspaces outside the project do not exist for anyone, tenant admins included.
    for headers in (api.headers("dev", workspace="main"), {**h["tenant"], "workspace": "main"}):
        assert_error(await api.http.get(LIST, headers=headers), 403, "DLF.6888")


async def test_an_event_naming_another_workspace_is_refused(api: Api) -> None:
    await _setup(api)
    event = {**version_submitted("x"), "workspace_id": "second"}
    r = await api.http.post(EVENTS, json=event, headers=api.headers("dev"))
    assert_error(r, 400, "DLF.2001")
