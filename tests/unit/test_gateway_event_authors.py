"""Over HTTP an upstream event speaks for its caller: a developer submits, imports or
creates only as themselves and never imports jobs as already released; an admin or a
tenant administrator publishes for others, as an upstream system's account does."""

from __future__ import annotations

from typing import Any

from releasegate.shared.identity import TenantRole, User
from tests.events import version_submitted
from tests.helpers import eventually
from tests.scenarios import error
from tests.unit.conftest import Api

EVENTS = "/v2/demo/factory/events"


def imported(*statuses: str, importer: str = "u-dev") -> dict[str, Any]:
    jobs = [
        {"item_name": f"imp_{i}", "version": 1, "status": s, "content": {}}
        for i, s in enumerate(statuses)
    ]
    payload = {"jobs": jobs, "importer_id": importer, "importer_name": "x", "imported_at": 1}
    return {"type": "job.imported", "payload": payload}


def created(creator: str) -> dict[str, Any]:
    payload = {
        "item_name": "rt_job",
        "content": {},
        "subjobs": ["part"],
        "creator_id": creator,
        "creator_name": "x",
        "created_at": 1,
    }
    return {"type": "job.created", "payload": payload}


async def _post(api: Api, event: dict[str, Any], headers: dict[str, str]) -> Any:
    return await api.http.post(EVENTS, json=event, headers=headers)


async def test_a_developer_publishes_only_as_themselves(api: Api) -> None:
    dev = api.headers("dev")
    forged = version_submitted("forged", 1, submitter="u-admin", submitter_name="admin")
    error(await _post(api, forged, dev), 403, "DLF.6888", "u-admin")
    error(await _post(api, created("u-admin"), dev), 403, "DLF.6888")
    error(await _post(api, imported("submitted", importer="u-admin"), dev), 403, "DLF.6888")
    own = version_submitted("own", 1, submitter="u-dev", submitter_name="dev")
    assert (await _post(api, own, dev)).status_code == 202
    assert (await _post(api, imported("submitted"), dev)).status_code == 202
    # Nothing forged reached the pipeline.
    r = await api.http.get("/v2/demo/factory/pending-items", params={"limit": 100}, headers=dev)
    assert {d["item_name"] for d in r.json()["data"]} <= {"own", "imp_0"}


async def test_only_an_admin_imports_jobs_as_released(api: Api) -> None:
    r = await _post(api, imported("submitted", "released"), api.headers("dev"))
    error(r, 403, "DLF.6888", "released")
    assert (
        await _post(api, imported("released", importer="u-dev"), api.headers("admin"))
    ).status_code == 202


async def test_admins_and_tenant_administrators_publish_for_others(api: Api) -> None:
    for_dev = version_submitted("for_dev", 1, submitter="u-dev", submitter_name="dev")
    assert (await _post(api, for_dev, api.headers("admin"))).status_code == 202
    tenant_admin = await api.add_user(
        User(
            user_id="u-tenant",
            name="tenant",
            project_id="demo",
            tenant_roles=[TenantRole.DARTS_ADMINISTRATOR],
        )
    )
    also = version_submitted("also_for_dev", 1, submitter="u-dev", submitter_name="dev")
    assert (await _post(api, also, tenant_admin)).status_code == 202

    async def both() -> list[str] | None:
        r = await api.http.get(
            "/v2/demo/factory/pending-items", params={"limit": 100}, headers=api.headers("dev")
        )
        mine = sorted(d["item_name"] for d in r.json()["data"] if d["submit_user_id"] == "u-dev")
        return mine if len(mine) == 2 else None

    assert await eventually(both, what="both tasks") == ["also_for_dev", "for_dev"]
