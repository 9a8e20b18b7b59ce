"""Rejection paths of the release workflow, written once against the API and run
twice: in memory (tests/unit) and on the four real processes (tests/e2e)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from releasegate.shared.identity import IdentityStore, Role, TenantRole, User
from releasegate.shared.tokens import mint_token
from tests.flows import Flow
from tests.helpers import eventually


@dataclass
class Users:
    """Adds users where the gateway reads them and gives ``flow`` their tokens."""

    identity: IdentityStore
    flow: Flow
    project: str
    workspace: str
    secret: str
    issuer: str = "releasegate"
    audience: str = "releasegate"

    async def add(
        self,
        user_id: str,
        roles: list[Role] | None = None,
        tenant: list[TenantRole] | None = None,
        workspace: str | None = None,
        project: str | None = None,
    ) -> None:
        await self.identity.put_user(
            User(
                user_id=user_id,
                name=user_id.removeprefix("u-"),
                project_id=project or self.project,
                workspace_roles={workspace or self.workspace: roles or []},
                tenant_roles=tenant or [],
            )
        )
        self.flow.tokens[user_id.removeprefix("u-")] = mint_token(
            user_id, secret=self.secret, issuer=self.issuer, audience=self.audience
        )


def error(r: httpx.Response, status: int, code: str, fragment: str = "") -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error_code"] == code, body
    assert fragment in body["error_msg"], body


async def creation_rules(flow: Flow, users: Users) -> None:
    item = (await flow.submit("cr_x", 1))["pending_item_id"]
    other = (await flow.submit("cr_y", 1))["pending_item_id"]
    await users.add("u-plain", [Role.DEVELOPER])
    await users.add("u-darts", tenant=[TenantRole.DARTS_ADMINISTRATOR])
    await users.add("u-elsewhere", [Role.DEPLOYER], workspace="other-ws")
    error(await flow.create_package([]), 400, "DLF.0802")
    error(await flow.create_package([str(i) for i in range(101)]), 400, "DLF.0802")
    error(await flow.create_package([item], approvers=[]), 400, "DLF.0802")
    error(await flow.create_package([item, item]), 400, "DLF.3001", "duplicates")
    error(await flow.create_package(["123"]), 400, "DLF.0810", "123")
    error(await flow.create_package([item], approvers=["u-dev"]), 400, "DLF.3002")
    error(await flow.create_package([item], approvers=["u-ghost"]), 400, "DLF.3003")
    error(await flow.create_package([item], approvers=["u-plain"]), 400, "DLF.3004")
    error(await flow.create_package([item], approvers=["u-elsewhere"]), 400, "DLF.3004")
    # Nothing was reserved by the refused attempts.
    flags = {
        d["item_name"]: d["package_flag"] for d in (await flow.pending(item_name="cr_"))["data"]
    }
    assert flags == {"cr_x": 0, "cr_y": 0}
    # A tenant-level DARTS Administrator may review.
    first = await flow.package([item], approvers=["u-darts"])
    error(await flow.create_package([other, item]), 400, "DLF.2101", first)
    flags = {
        d["item_name"]: d["package_flag"] for d in (await flow.pending(item_name="cr_"))["data"]
    }
    assert flags == {"cr_x": 1, "cr_y": 0}
    # A task inside a package cannot be revoked on its own.
    r = await flow.http.post(
        flow.url("/pending-items/revoke"),
        json={"pending_item_ids": [item]},
        headers=flow.headers("dev"),
    )
    error(r, 400, "DLF.2101", first)


async def applicant_rules(flow: Flow, users: Users) -> None:
    """Only an admin applies for someone else, and only for a colleague of the
    workspace: four-eyes rests on the applicant being a real person other than the one
    who releases."""
    item = (await flow.submit("ap_x", 1))["pending_item_id"]
    # Roles in a workspace of the same id, but of another project.
    await users.add("u-outsider", [Role.DEVELOPER], project="another-project")
    await users.add("u-reviewer-b", [Role.DEPLOYER], project="another-project")
    await users.add("u-nowhere", [Role.DEVELOPER], workspace="other-ws")
    error(await flow.create_package([item], applicant="u-dev", user="deployer"), 403, "DLF.6888")
    for stranger in ("u-ghost", "u-outsider", "u-nowhere"):
        r = await flow.create_package([item], applicant=stranger, user="admin")
        error(r, 400, "DLF.3006", stranger)
    error(await flow.create_package([item], approvers=["u-reviewer-b"]), 400, "DLF.3003")
    # Whoever applies on behalf of someone counts as an applicant too: neither an
    # approver nor the one who releases.
    r = await flow.create_package([item], applicant="u-dev", user="admin", approvers=["u-admin"])
    error(r, 400, "DLF.3002", "on behalf of")
    # For a colleague, the package is theirs, under their name.
    package_id = await flow.package([item], applicant="u-dev", user="admin")
    details = (await flow.details(package_id)).json()["release_package"]
    assert (details["apply_user_id"], details["apply_user_name"]) == ("u-dev", "dev")
    error(await flow.deploy([package_id], user="admin"), 400, "DLF.3011")
    assert (await flow.deploy([package_id], user="deployer")).status_code == 200


async def reviewer_list_rules(flow: Flow, users: Users) -> None:
    item = (await flow.submit("rl_x", 1))["pending_item_id"]
    await users.add("u-dep2", [Role.DEPLOYER])
    r = await flow.http.put(flow.url("/reviewers/u-dep2"), headers=flow.headers("admin"))
    assert r.status_code == 200, r.text
    try:
        listed = await flow.http.get(flow.url("/reviewers"), headers=flow.headers("dev"))
        assert [x["user_id"] for x in listed.json()["reviewers"]] == ["u-dep2"]
        error(await flow.create_package([item], approvers=["u-deployer"]), 400, "DLF.3005")
        assert (await flow.create_package([item], approvers=["u-dep2"])).status_code == 200
        error(
            await flow.http.put(flow.url("/reviewers/u-dep2"), headers=flow.headers("dev")),
            403,
            "DLF.6888",
        )
        error(
            await flow.http.put(flow.url("/reviewers/u-dev"), headers=flow.headers("admin")),
            400,
            "DLF.3004",
        )
    finally:
        r = await flow.http.delete(flow.url("/reviewers/u-dep2"), headers=flow.headers("admin"))
        assert r.status_code == 200
    error(
        await flow.http.delete(flow.url("/reviewers/u-dep2"), headers=flow.headers("admin")),
        400,
        "DLF.0810",
    )


async def unpack_rules(flow: Flow, users: Users) -> None:
    a = (await flow.submit("up_a", 1))["pending_item_id"]
    b = (await flow.submit("up_b", 1))["pending_item_id"]
    pa, pb = await flow.package([a], name="pa"), await flow.package([b], name="pb")
    await users.add("u-dev2", [Role.DEVELOPER])
    await users.add("u-viewer", [Role.VIEWER])
    error(await flow.unpack(["999"]), 400, "DLF.0810")
    error(await flow.unpack([pa], user="dev2"), 403, "DLF.6888")
    error(await flow.unpack([pa], user="viewer"), 403, "DLF.6888")
    assert (await flow.unpack([pa], user="dev")).status_code == 200
    r = await flow.unpack([pb], user="deployer", reason="needs a review of the SQL")
    assert r.status_code == 200 and r.content == b""
    assert (await flow.details(pa)).json()["release_package"]["deploy_status"] == 7
    assert (await flow.details(pb)).json()["release_package"]["deploy_status"] == 6
    error(await flow.unpack([pa]), 400, "DLF.3010")

    async def back_to_pending() -> bool:
        data = (await flow.pending(item_name="up_"))["data"]
        return len(data) == 2 and {d["package_flag"] for d in data} == {0}

    await eventually(back_to_pending, timeout=flow.timeout, what="tasks pending again")
    audit = (
        await flow.http.get(flow.url(f"/release-packages/{pb}/audit"), headers=flow.headers("dev"))
    ).json()
    assert [e["action"] for e in audit["entries"]] == ["created", "rejected"]
    assert audit["entries"][1]["reason"] == "needs a review of the SQL"
    assert audit["entries"][1]["actor_name"] == "deployer"
    assert (await flow.create_package([a, b])).status_code == 200


DEPLOY_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"package_ids": []}, "package_ids"),
    ({"package_ids": [str(i) for i in range(1, 102)]}, "package_ids"),
    ({"package_ids": ["12", "12"]}, "repeat"),
    ({"package_ids": ["12a"]}, "package_ids"),
    ({"package_ids": [12]}, "package_ids"),
    ({"package_ids": ["12"], "startup_mode": 2}, "startup_mode"),
    ({"startup_mode": 1}, "package_ids"),
]


async def deploy_body_rules(flow: Flow) -> None:
    for body, fragment in DEPLOY_BODIES:
        r = await flow.http.post(
            flow.url("/release-packages/deploy"), json=body, headers=flow.headers("deployer")
        )
        error(r, 400, "DLF.0802", fragment)


async def _one_package(flow: Flow, name: str, **kw: Any) -> str:
    item = (await flow.submit(name, 1))["pending_item_id"]
    return await flow.package([item], **kw)


async def release_rules(flow: Flow, users: Users) -> None:
    package_id = await _one_package(flow, "rr_x")
    error(await flow.deploy([package_id], user="dev"), 403, "DLF.6888")
    await users.add("u-dep3", [Role.DEPLOYER])
    own = await _one_package(flow, "rr_mine", user="dep3", approvers=["u-deployer"])
    error(await flow.deploy([own], user="dep3"), 400, "DLF.3011")
    error(await flow.deploy([package_id], user="dep3"), 400, "DLF.3014")
    assert (await flow.deploy([own], user="deployer")).status_code == 200
    assert (await flow.deploy([package_id], user="admin")).status_code == 200
    # All or nothing when an id is invalid.
    good = await _one_package(flow, "rr_good")
    rejected = await _one_package(flow, "rr_rejected")
    assert (await flow.unpack([rejected])).status_code == 200
    error(await flow.deploy([good, "4242"]), 400, "DLF.0810", "4242")
    error(await flow.deploy([good, rejected]), 400, "DLF.3010", rejected)
    assert (await flow.details(good)).json()["release_package"]["deploy_status"] == 1
    r = await flow.deploy([good])
    assert r.status_code == 200
    second = await flow.deploy([good])
    assert second.status_code == 400 and second.json()["error_code"] in ("DLF.3012", "DLF.3010")
    done = await flow.until_done(r.json()["deploy_package_details"][0]["asy_task_id"])
    assert done["status"] == "SUCCESSFUL"
    error(await flow.unpack([good]), 400, "DLF.3010")


async def lost_role_rules(flow: Flow, users: Users) -> None:
    await users.add("u-dep4", [Role.DEPLOYER])
    package_id = await _one_package(flow, "lr_x", approvers=["u-dep4"])
    # On the real processes this write is like the CLI's: a gateway that had cached dep4
    # would see it only after RELEASEGATE_IDENTITY_CACHE_TTL_S; dep4 has made no call yet.
    await users.add("u-dep4", [Role.VIEWER])
    error(await flow.deploy([package_id], user="dep4"), 403, "DLF.6888")


async def policy_rules(flow: Flow, users: Users) -> None:
    """Self-release and two approvals; restores the default policy at the end."""
    policy = flow.url("/approval-policy")
    try:
        r = await flow.http.put(
            policy,
            json={"required_approvals": 1, "allow_self_release": True},
            headers=flow.headers("admin"),
        )
        assert r.status_code == 200 and r.json()["allow_self_release"] is True
        own = await _one_package(flow, "pr_own", user="deployer", approvers=["u-admin"])
        assert (await flow.deploy([own], user="deployer")).status_code == 200
        error(
            await flow.http.put(
                policy, json={"required_approvals": 0}, headers=flow.headers("admin")
            ),
            400,
            "DLF.0802",
        )
        error(
            await flow.http.put(
                policy, json={"required_approvals": 2}, headers=flow.headers("deployer")
            ),
            403,
            "DLF.6888",
        )
        r = await flow.http.put(
            policy, json={"required_approvals": 2}, headers=flow.headers("admin")
        )
        assert r.json() == {"required_approvals": 2, "allow_self_release": False}
        package_id = await _one_package(flow, "pr_two", approvers=["u-deployer", "u-admin"])
        first = await flow.deploy([package_id], user="deployer")
        assert first.status_code == 200, first.text
        task_id = first.json()["deploy_package_details"][0]["asy_task_id"]
        assert (await flow.system_task(task_id)).json()["status"] == "WAITING_APPROVAL"
        assert (await flow.deploy([package_id], user="deployer")).status_code == 200
        assert (await flow.system_task(task_id)).json()["status"] == "WAITING_APPROVAL"
        second = await flow.deploy([package_id], user="admin")
        assert second.json()["deploy_package_details"][0]["asy_task_id"] == task_id
        assert (await flow.until_done(task_id))["status"] == "SUCCESSFUL"
        audit = (
            await flow.http.get(
                flow.url(f"/release-packages/{package_id}/audit"), headers=flow.headers("dev")
            )
        ).json()["entries"]
        actions = [e["action"] for e in audit]
        assert actions[:5] == ["created", "approved", "approved", "released", "task_deployed"]
        assert actions[-1] == "finished"
    finally:
        await flow.http.put(policy, json={"required_approvals": 1}, headers=flow.headers("admin"))


async def revoke_rules(flow: Flow, users: Users) -> None:
    mine = (await flow.submit("rv_mine", 1))["pending_item_id"]
    theirs = (await flow.submit("rv_theirs", 1, user="admin"))["pending_item_id"]
    await users.add("u-viewer2", [Role.VIEWER])

    async def revoke(ids: list[str], user: str = "dev") -> httpx.Response:
        return await flow.http.post(
            flow.url("/pending-items/revoke"),
            json={"pending_item_ids": ids, "reason": "r"},
            headers=flow.headers(user),
        )

    error(await revoke([theirs]), 403, "DLF.6888", "submitter")
    error(await revoke([mine], user="viewer2"), 403, "DLF.6888")
    error(await revoke(["42"]), 400, "DLF.0810")
    error(await revoke([mine, theirs]), 403, "DLF.6888")  # all or none
    assert (await revoke([mine])).json() == {"revoked": [mine]}
    assert (await revoke([theirs], user="deployer")).status_code == 200
    assert (await flow.pending(item_name="rv_"))["total"] == 0


SCENARIOS = [
    creation_rules,
    applicant_rules,
    reviewer_list_rules,
    unpack_rules,
    release_rules,
    lost_role_rules,
    policy_rules,
    revoke_rules,
]
