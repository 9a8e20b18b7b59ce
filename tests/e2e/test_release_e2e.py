"""The release path across separate processes on the real RabbitMQ and MongoDB-wire
server: deploy call to SUCCESSFUL poll with two deployers, one killed mid-package;
a failing webhook target ending FAILED with reasons; approve vs revoke races."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from releasegate.shared.readmodels.production import CATALOG, HISTORY
from releasegate.shared.store.mongo import MongoDatabase
from tests.e2e.conftest import seed_users
from tests.flows import Flow
from tests.helpers import eventually
from tests.infra.processes import Stack
from tests.infra.servers import Servers


async def _submit_many(flow: Flow, n: int, prefix: str) -> list[str]:
    for i in range(n):
        r = await flow.http.post(
            flow.url("/events"),
            json={
                "type": "job.version.submitted",
                "payload": {
                    "item_name": f"{prefix}{i:03d}",
                    "task_type": "job",
                    "version": 1,
                    "content": {"n": i},
                    "submitter_id": "u-dev",
                    "submitter_name": "dev",
                    "submitted_at": 1_763_700_000_000 + i,
                },
            },
            headers=flow.headers("dev"),
        )
        assert r.status_code == 202, r.text

    async def all_listed() -> list[str] | None:
        data = (await flow.pending(item_name=prefix))["data"]
        return [d["pending_item_id"] for d in data] if len(data) == n else None

    return await eventually(all_listed, timeout=60, what=f"{n} pending items")


async def _explain(flow: Flow, task_id: str, stack: Stack) -> None:
    """Say where a release got stuck: unfinished subtasks and the services' last words."""
    task = (await flow.system_task(task_id)).json()
    stuck = [s for s in task["subtasks"] if s["status"] != "SUCCESSFUL"]
    print(f"{len(stuck)} subtasks unfinished, e.g. {stuck[:3]}")
    for name, proc in stack.processes.items():
        warnings = [r for r in proc.log_records() if r.get("level") in ("warning", "error")]
        print(f"--- {name}: {len(warnings)} warnings/errors, last: {warnings[-5:]}")
    db = MongoDatabase(stack.servers.mongodb_url, stack.db_name)
    try:
        package = await db.collection("review_packages").find_one({"asy_task_id": task_id})
        assert package is not None
        subtasks = await db.collection("deployer_subtasks").find({"package_id": package["_id"]})
        reported = set(package.get("finished") or {})
        missing = [s for s in subtasks if s["pending_item_id"] not in reported]
        print(
            f"package status {package['deploy_status']}, {len(reported)} reported of "
            f"{package['task_count']}; unreported subtasks: "
            f"{[(m['_id'], m['deploy_status'], m.get('outbox_n')) for m in missing][:5]}"
        )
    finally:
        await db.close()


@pytest.fixture
def slow_stack(servers: Servers, namespace: str, db_name: str) -> Iterator[Stack]:
    # Two deployers, each task taking 40 ms at the target: there is time to kill one.
    s = Stack(
        servers,
        namespace,
        db_name,
        deployers=2,
        extra_env={"RELEASEGATE_TARGET_LATENCY_MS": "40", "RELEASEGATE_PREFETCH": "4"},
    )
    s.start()
    yield s
    s.stop()


async def test_deploy_to_successful_with_a_deployer_killed_mid_package(
    slow_stack: Stack,
) -> None:
    tokens = await seed_users(slow_stack)
    async with httpx.AsyncClient(base_url=slow_stack.base_url, timeout=30) as http:
        flow = Flow(http, tokens, "p1", timeout=60)
        ids = await _submit_many(flow, 80, "kill_")
        package_id = await flow.package(ids, name="big")
        r = await flow.deploy([package_id])
        assert r.status_code == 200, r.text
        [detail] = r.json()["deploy_package_details"]
        assert detail == {
            "asy_subtask_num": 80,
            "asy_task_id": detail["asy_task_id"],
            "package_id": int(package_id),
        }

        async def some_done() -> bool:
            task = (await flow.system_task(detail["asy_task_id"])).json()
            return sum(s["status"] == "SUCCESSFUL" for s in task["subtasks"]) >= 10

        await eventually(some_done, timeout=60, what="first tasks deployed")
        slow_stack.processes["deployer-0"].kill()  # SIGKILL, mid-package
        try:
            task = await flow.until_done(detail["asy_task_id"], timeout=120)
        except AssertionError:
            await _explain(flow, detail["asy_task_id"], slow_stack)
            raise
        assert task["status"] == "SUCCESSFUL", [
            s for s in task["subtasks"] if s["status"] != "SUCCESSFUL"
        ][:3]
        details = (await flow.details(package_id)).json()
        assert details["release_package"]["deploy_status"] == 2
        assert {(t["deploy_status"], t["start_job_status"]) for t in details["task_details"]} == {
            (2, 2)
        }
    db = MongoDatabase(slow_stack.servers.mongodb_url, slow_stack.db_name)
    try:
        # Every task reached production exactly once.
        assert await db.collection(HISTORY).count({"package_id": package_id}) == 80
        assert await db.collection(CATALOG).count({"package_id": package_id}) == 80
    finally:
        await db.close()


class _Webhook(BaseHTTPRequestHandler):
    status = 500
    seen: list[dict[str, Any]] = []
    secret = "webhook-secret"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        type(self).seen.append(
            {
                "path": self.path,
                "signed": self.headers.get("X-Releasegate-Signature") == expected,
                "key": self.headers.get("Idempotency-Key"),
                "body": json.loads(body),
            }
        )
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error": "down"}' if type(self).status >= 400 else b"{}")

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[_Webhook]]]:
    handler = type("Hook", (_Webhook,), {"seen": [], "status": 500})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/deploy", handler
    server.shutdown()


async def test_failing_webhook_target_ends_failed_with_reasons(
    servers: Servers,
    namespace: str,
    db_name: str,
    webhook: tuple[str, type[_Webhook]],
) -> None:
    url, hook = webhook
    stack = Stack(
        servers,
        namespace,
        db_name,
        extra_env={
            "RELEASEGATE_TARGET": "webhook",
            "RELEASEGATE_WEBHOOK_URL": url,
            "RELEASEGATE_WEBHOOK_SECRET": hook.secret,
            "RELEASEGATE_TARGET_ATTEMPTS": "3",
            "RELEASEGATE_TARGET_BACKOFF_S": "0.05",
        },
    )
    stack.start()
    try:
        tokens = await seed_users(stack)
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as http:
            flow = Flow(http, tokens, "p1", timeout=30)
            ids = await _submit_many(flow, 2, "hook_")
            package_id = await flow.package(ids)
            r = await flow.deploy([package_id])
            task = await flow.until_done(r.json()["deploy_package_details"][0]["asy_task_id"])
            assert task["status"] == "FAILED"
            assert [s["status"] for s in task["subtasks"]] == ["FAILED", "FAILED"]
            audit = (
                await http.get(
                    f"/v2/p1/factory/release-packages/{package_id}/audit",
                    headers=flow.headers("dev"),
                )
            ).json()["entries"]
            reasons = [e["reason"] for e in audit if e["action"] == "task_failed"]
            assert len(reasons) == 2
            assert all("webhook answered 500" in r and "after 3 attempts" in r for r in reasons)
            assert len(hook.seen) == 6 and all(s["signed"] for s in hook.seen)
            keys = {s["key"] for s in hook.seen}
            assert len(keys) == 2  # the same idempotency key on every retry of a task

            # The webhook recovers: the tasks are pending again and release fine.
            hook.status = 200
            hook.seen.clear()
            again = await flow.package(ids, name="retry")
            r = await flow.deploy([again])
            task = await flow.until_done(r.json()["deploy_package_details"][0]["asy_task_id"])
            assert task["status"] == "SUCCESSFUL"
            paths = sorted(s["path"] for s in hook.seen)
            assert paths == ["/deploy", "/deploy", "/deploy/start", "/deploy/start"]
    finally:
        stack.stop()


async def test_release_and_revoke_of_the_same_package_decided_once(
    stack: Stack, tokens: dict[str, Any]
) -> None:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as http:
        flow = Flow(http, tokens, "p1", timeout=30)
        ids = await _submit_many(flow, 20, "race_")
        packages = [await flow.package([i], name=f"race{n}") for n, i in enumerate(ids)]
        results = await asyncio.gather(
            *(
                asyncio.gather(
                    flow.deploy([p], user="deployer"),
                    flow.unpack([p], user="admin"),
                    flow.deploy([p], user="admin"),
                )
                for p in packages
            )
        )
        for package_id, (deploy, unpack, deploy2) in zip(packages, results, strict=True):
            wins = [r.status_code == 200 for r in (deploy, unpack, deploy2)]
            assert sum(wins) == 1, (package_id, deploy.text, unpack.text, deploy2.text)
            status = (await flow.details(package_id)).json()["release_package"]["deploy_status"]
            assert status in ((6,) if wins[1] else (5, 2)), (package_id, status)
