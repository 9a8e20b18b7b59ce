"""The four services as separate processes on the real RabbitMQ and MongoDB-wire
server: an upstream "version submitted" event, over HTTP and over AMQP, becomes a
release task listed by the gateway; every service stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.events import version_submitted
from tests.helpers import eventually
from tests.infra.processes import Stack


async def _pending(client: httpx.AsyncClient, token: str, **params: Any) -> dict[str, Any]:
    r = await client.get(
        "/v2/p1/factory/pending-items", params=params, headers={"X-Auth-Token": token}
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_version_event_becomes_pending_item(
    stack: Stack, tokens: dict[str, Any], tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=10) as client:
        # Over the HTTP ingress.
        r = await client.post(
            "/v2/p1/factory/events",
            json=version_submitted("orders_etl", 2),
            headers={"X-Auth-Token": tokens["dev"]},
        )
        assert r.status_code == 202, r.text

        async def listed() -> dict[str, Any] | None:
            body = await _pending(client, tokens["deployer"], item_name="orders")
            return body if len(body["data"]) == 1 else None

        page = await eventually(listed, timeout=20, what="the task over HTTP")
        item = page["data"][0]
        assert (item["item_name"], item["pending_version"], item["package_flag"]) == (
            "orders_etl",
            2,
            0,
        )

        # Over AMQP, as an upstream system publishes, with `releasegate publish`.
        event_file = tmp_path / "event.json"
        event_file.write_text(json.dumps(version_submitted("billing.sql", 1, task_type="script")))
        env = stack.env(0)
        done = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "releasegate.cli.main",
                "publish",
                str(event_file),
                "--project",
                "p1",
                "--workspace",
                "ws1",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr

        async def both() -> dict[str, Any] | None:
            body = await _pending(client, tokens["dev"])
            return body if len(body["data"]) == 2 else None

        page = await eventually(both, timeout=20, what="the task over AMQP")
        assert {d["item_name"] for d in page["data"]} == {"orders_etl", "billing.sql"}

    codes = stack.stop()
    assert codes == {name: 0 for name in codes}, codes
    handled = [
        rec
        for rec in stack.processes["submission"].log_records()
        if rec.get("msg") == "handled" and rec.get("routing_key") == "job.version.submitted"
    ]
    assert len(handled) == 2
    assert all(rec.get("message_id") and rec.get("correlation_id") for rec in handled)
