"""API-level steps shared by unit (in-memory) and e2e (real servers) tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.events import version_submitted
from tests.helpers import eventually


class Flow:
    def __init__(
        self, http: httpx.AsyncClient, tokens: dict[str, str], project: str, timeout: float = 10.0
    ) -> None:
        self.http = http
        self.tokens = tokens
        self.project = project
        self.timeout = timeout

    def headers(self, user: str, **extra: str) -> dict[str, str]:
        return {"X-Auth-Token": self.tokens[user], **extra}

    def url(self, path: str) -> str:
        return f"/v2/{self.project}/factory{path}"

    async def submit(
        self, name: str, version: int = 1, user: str = "dev", **kw: Any
    ) -> dict[str, Any]:
        """Post a version event and wait for its pending item."""
        r = await self.http.post(
            self.url("/events"),
            json=version_submitted(name, version, submitter=f"u-{user}", submitter_name=user, **kw),
            headers=self.headers(user),
        )
        assert r.status_code == 202, r.text

        async def listed() -> dict[str, Any] | None:
            page = await self.pending(item_name=name)
            hits = [
                d
                for d in page["data"]
                if d["item_name"] == name and d["pending_version"] == version
            ]
            return hits[0] if hits else None

        return await eventually(listed, timeout=self.timeout, what=f"pending item {name}")

    async def pending(self, user: str = "dev", **params: Any) -> dict[str, Any]:
        r = await self.http.get(
            self.url("/pending-items"), params={"limit": 100, **params}, headers=self.headers(user)
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def create_package(
        self,
        ids: list[str],
        approvers: list[str] | None = None,
        user: str = "dev",
        name: str = "pkg",
        applicant: str | None = None,
    ) -> httpx.Response:
        body: dict[str, Any] = {
            "package_name": name,
            "pending_item_list": ids,
            "approver_ids": approvers if approvers is not None else ["u-deployer"],
        }
        if applicant is not None:
            body["apply_user_id"] = applicant
        return await self.http.post(
            self.url("/pending-items/package"), json=body, headers=self.headers(user)
        )

    async def package(self, ids: list[str], **kw: Any) -> str:
        r = await self.create_package(ids, **kw)
        assert r.status_code == 200, r.text
        package_id: str = r.json()["release_package_id"]
        return package_id

    async def deploy(
        self, package_ids: list[str], user: str = "deployer", startup_mode: int | None = None
    ) -> httpx.Response:
        body: dict[str, Any] = {"package_ids": package_ids}
        if startup_mode is not None:
            body["startup_mode"] = startup_mode
        return await self.http.post(
            self.url("/release-packages/deploy"), json=body, headers=self.headers(user)
        )

    async def unpack(
        self, package_ids: list[str], user: str = "deployer", reason: str = ""
    ) -> httpx.Response:
        return await self.http.post(
            self.url("/release-packages/unpack"),
            json={"package_ids": package_ids, "reason": reason},
            headers=self.headers(user),
        )

    async def details(self, package_id: str, user: str = "dev") -> httpx.Response:
        return await self.http.get(
            self.url(f"/release-packages/{package_id}"), headers=self.headers(user)
        )

    async def system_task(self, task_id: str, user: str = "dev") -> httpx.Response:
        return await self.http.get(
            f"/v1/{self.project}/system-tasks/{task_id}", headers=self.headers(user)
        )

    async def until_done(self, task_id: str, timeout: float | None = None) -> dict[str, Any]:
        async def done() -> dict[str, Any] | None:
            r = await self.system_task(task_id)
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            return body if body["status"] in ("SUCCESSFUL", "FAILED") else None

        return await eventually(
            done,
            timeout=timeout or self.timeout,
            interval=0.05,
            what=f"system task {task_id} to finish",
        )
