"""The submission service on the real RabbitMQ and MongoDB-wire server."""

from __future__ import annotations

import json
from typing import Any

from releasegate.shared.contracts import Envelope
from releasegate.shared.readmodels.pending_items import TASKS
from releasegate.submission.repository import VERSIONS
from tests.events import version_submitted
from tests.helpers import eventually
from tests.integration.conftest import RealSubmission


def envelope(event: dict[str, Any]) -> Envelope:
    return Envelope.model_validate({**event, "project_id": "p", "workspace_id": "w"})


async def test_out_of_order_and_duplicate_delivery_give_one_task(
    real_submission: RealSubmission,
) -> None:
    bus, db = real_submission.publisher, real_submission.db
    for v in (3, 1, 3, 2, 1):
        await bus.publish(envelope(version_submitted("orders", v)))

    async def settled() -> list[dict[str, Any]] | None:
        versions = await db.collection(VERSIONS).find({}, sort=[("version", 1)])
        tasks = await db.collection(TASKS).find({})
        ok = [v["version"] for v in versions] == [1, 2, 3] and len(tasks) == 1
        # Settled also means announced: the outbox is drained after the write.
        return (
            tasks if ok and tasks[0]["pending_version"] == 3 and tasks[0]["outbox_n"] == 0 else None
        )

    [task] = await eventually(settled, timeout=20, what="one task at v3, announced")
    assert task["update_type"] == 1


async def test_malformed_messages_are_dead_lettered_and_good_ones_still_flow(
    real_submission: RealSubmission,
) -> None:
    bus, db = real_submission.publisher, real_submission.db
    bad = [
        b"\x00\xffnot json",
        json.dumps(
            {
                "type": "job.version.submitted",
                "schema_version": 7,
                "project_id": "p",
                "workspace_id": "w",
                "payload": {},
            }
        ).encode(),
        json.dumps(
            {
                **version_submitted(),
                "project_id": "p",
                "workspace_id": "w",
                "payload": {**version_submitted()["payload"], "version": 0},
            }
        ).encode(),
        json.dumps(
            {
                **version_submitted(),
                "project_id": "p",
                "workspace_id": "w",
                "payload": {**version_submitted()["payload"], "description": "x" * 129},
            }
        ).encode(),
        # Over the 1 MiB message limit.
        json.dumps(version_submitted(content={"blob": "x" * 1_100_000})).encode(),
    ]
    for body in bad:
        await bus.publish_raw("job.version.submitted", body)
    await bus.publish(envelope(version_submitted("after_the_bad_ones", 1)))

    async def task_made() -> bool:
        return await db.collection(TASKS).count({"item_name": "after_the_bad_ones"}) == 1

    await eventually(task_made, timeout=20, what="the good event handled")
    dead: list[Any] = []

    async def all_dead() -> bool:
        dead.extend(await bus.take_dead_letters("submission.inbox"))
        return len(dead) >= len(bad)

    await eventually(all_dead, timeout=20, what="every bad message dead-lettered")
    assert sorted(d.body for d in dead) == sorted(bad)
    reasons = " | ".join(d.reason for d in dead)
    assert "malformed envelope" in reasons and "unknown message type" in reasons
    assert "version" in reasons and "description" in reasons and "oversized" in reasons
    assert all(d.headers.get("x-dead-queue") == "submission.inbox" for d in dead)
    metrics = real_submission.worker.bus.metrics
    assert metrics.value("dead_lettered_total", queue="submission.inbox") == len(bad)
