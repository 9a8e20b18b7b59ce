"""The whole release flow against a running gateway, one HTTP call at a time: a developer
submits a version, it becomes a release task, the developer packages it for review, a
deployer approves and releases the package, the release is polled to its end and the
version is in production.

    make run                                   # in one terminal
    .venv/bin/python examples/walkthrough.py   # in another

It reads the demo users' tokens from the file ``make run`` writes
(``--credentials``, default ``.releasegate/dev-credentials.json``). Each run submits a
new item, so it can be run again and again."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

EXAMPLE = Path(__file__).with_name("version-submitted.json")
FINISHED = ("SUCCESSFUL", "FAILED")


class Walk:
    """The demo tenant's calls, as the user each step belongs to."""

    def __init__(
        self, http: httpx.AsyncClient, credentials: dict[str, Any], say: Callable[[str], None]
    ) -> None:
        self.http = http
        self.users = credentials["users"]
        self.project = credentials["project_id"]
        self.say = say

    async def call(self, user: str, method: str, path: str, *, expect: int = 200, **kw: Any) -> Any:
        r = await self.http.request(
            method, path, headers={"X-Auth-Token": self.users[user]["token"]}, **kw
        )
        if r.status_code != expect:
            raise RuntimeError(f"{method} {path} as {user}: {r.status_code} {r.text}")
        return r.json() if r.content else None

    async def until(self, probe: Callable[[], Any], what: str, timeout_s: float) -> Any:
        # The pipeline is asynchronous: events and releases finish after the call answers.
        deadline = time.monotonic() + timeout_s
        while (found := await probe()) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: nothing after {timeout_s} s")
            await asyncio.sleep(0.1)
        return found


async def walk(
    http: httpx.AsyncClient,
    credentials: dict[str, Any],
    say: Callable[[str], None] = print,
    timeout_s: float = 30.0,
) -> dict[str, Any]:
    """Run the flow; returns the finished system task, the package details and the
    production entry of the new item."""
    w = Walk(http, credentials, say)
    factory = f"/v2/{w.project}/factory"
    dev = w.users["dev"]
    item = f"walkthrough_{time.time_ns()}"

    event = json.loads(EXAMPLE.read_text())
    event["payload"].update(
        item_name=item,
        submitter_id=dev["user_id"],
        submitter_name="dev",
        submitted_at=int(time.time() * 1000),
    )
    accepted = await w.call("dev", "POST", f"{factory}/events", json=event, expect=202)
    say(f"1. dev submits version 1 of {item}: event {accepted['message_id']} accepted")

    async def pending() -> dict[str, Any] | None:
        page = await w.call("dev", "GET", f"{factory}/pending-items", params={"item_name": item})
        return page["data"][0] if page["data"] else None

    task = await w.until(pending, "the release task", timeout_s)
    say(f"2. it is release task {task['pending_item_id']} (package_flag {task['package_flag']})")

    created = await w.call(
        "dev",
        "POST",
        f"{factory}/pending-items/package",
        json={
            "package_name": f"release of {item}",
            "pending_item_list": [task["pending_item_id"]],
            "approver_ids": [w.users["deployer"]["user_id"]],
        },
    )
    package_id = created["release_package_id"]
    say(f"3. dev packages it for review by the deployer: package {package_id}")

    deployed = await w.call(
        "deployer",
        "POST",
        f"{factory}/release-packages/deploy",
        json={"package_ids": [package_id], "startup_mode": 1},
    )
    asy_task_id = deployed["deploy_package_details"][0]["asy_task_id"]
    say(f"4. the deployer approves and releases it: poll system task {asy_task_id}")

    async def finished() -> dict[str, Any] | None:
        body = await w.call("dev", "GET", f"/v1/{w.project}/system-tasks/{asy_task_id}")
        return body if body["status"] in FINISHED else None

    system_task = await w.until(finished, "the release", timeout_s)
    say(f"5. the release ended {system_task['status']}")

    details = await w.call("dev", "GET", f"{factory}/release-packages/{package_id}")
    [task_detail] = details["task_details"]
    say(
        f"6. package deploy_status {details['release_package']['deploy_status']}, task "
        f"deploy_status {task_detail['deploy_status']}, "
        f"start_job_status {task_detail['start_job_status']}"
    )

    in_production = await w.call(
        "dev", "GET", f"{factory}/production/items", params={"item_name": item}
    )
    [entry] = in_production["data"]
    say(f"7. production runs {entry['item_name']} version {entry['version']}")
    return {"system_task": system_task, "details": details, "production": entry}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--credentials", type=Path, default=Path(".releasegate/dev-credentials.json")
    )
    args = parser.parse_args()
    credentials = json.loads(args.credentials.read_text())
    async with httpx.AsyncClient(base_url=credentials["base_url"], timeout=10) as http:
        await walk(http, credentials)


if __name__ == "__main__":
    asyncio.run(main())
