"""What the fault tests share: seeding work fast (upstream events straight onto the
bus), releasing, and the one check they all end with: every task of every package
deployed exactly once, nothing lost, nothing duplicated, anywhere."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Any

import aio_pika

from releasegate.deployer.targets.catalog import CATALOG, HISTORY, JOB_RUNS
from releasegate.shared.contracts.upstream import VERSION_SUBMITTED, VersionSubmitted
from releasegate.shared.readmodels.packages import AUDIT, PACKAGES, SUBTASKS
from releasegate.shared.readmodels.pending_items import TASKS
from releasegate.shared.store.base import Database
from tests.flows import Flow
from tests.helpers import eventually

PROJECT, WORKSPACE = "p1", "ws1"


def version_event(prefix: str, i: int) -> bytes:
    payload = VersionSubmitted(
        item_name=f"{prefix}{i:04d}",
        task_type="job",
        version=1,
        content={"n": i},
        submitter_id="u-dev",
        submitter_name="dev",
        submitted_at=1_763_700_000_000 + i,
    )
    return VERSION_SUBMITTED.envelope(
        payload, project_id=PROJECT, workspace_id=WORKSPACE
    ).to_bytes()


async def publish_versions(amqp_url: str, namespace: str, prefix: str, n: int) -> None:
    """``n`` upstream version events, persistent and confirmed, onto ``<ns>.events``."""
    conn = await aio_pika.connect(amqp_url)
    try:
        channel = await conn.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{namespace}.events")
        for start in range(0, n, 100):
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            version_event(prefix, i), delivery_mode=aio_pika.DeliveryMode.PERSISTENT
                        ),
                        "job.version.submitted",
                    )
                    for i in range(start, min(n, start + 100))
                )
            )
    finally:
        await conn.close()


async def pending_ids(db: Database, prefix: str, n: int, timeout: float = 60) -> list[str]:
    async def listed() -> list[str] | None:
        docs = await db.collection(TASKS).find(
            {"item_name": {"$regex": f"^{prefix}"}, "state": "pending"}, projection={"_id": 1}
        )
        return sorted(str(d["_id"]) for d in docs) if len(docs) >= n else None

    found = await eventually(listed, timeout=timeout, interval=0.2, what=f"{n} pending items")
    assert len(found) == n, f"{len(found)} pending items for {n} events: duplicates"
    return found


async def packages_of(flow: Flow, ids: list[str], per: int = 100, tag: str = "pkg") -> list[str]:
    chunks = [ids[i : i + per] for i in range(0, len(ids), per)]
    return [await flow.package(chunk, name=f"{tag}{n}") for n, chunk in enumerate(chunks)]


async def deploy(flow: Flow, packages: list[str]) -> list[str]:
    r = await flow.deploy(packages)
    assert r.status_code == 200, r.text
    return [d["asy_task_id"] for d in r.json()["deploy_package_details"]]


async def successful(flow: Flow, asy_task_ids: list[str], timeout: float) -> None:
    for asy in asy_task_ids:
        task = await flow.until_done(asy, timeout=timeout)
        assert task["status"] == "SUCCESSFUL", [
            s for s in task["subtasks"] if s["status"] != "SUCCESSFUL"
        ][:3]


async def deployed_count(db: Database, packages: list[str]) -> int:
    return await db.collection(SUBTASKS).count(
        {"package_id": {"$in": packages}, "deploy_status": 2}
    )


@dataclass(frozen=True)
class Tally:
    tasks: int
    lost: int
    duplicated: int


async def exactly_once(db: Database, packages: list[str], tasks: int) -> Tally:
    """Every task of ``packages`` reached production once and was recorded once."""
    scope = {"package_id": {"$in": packages}}
    history = await db.collection(HISTORY).find(scope)
    catalog = await db.collection(CATALOG).find(scope)
    runs = await db.collection(JOB_RUNS).find(scope)
    subtasks = await db.collection(SUBTASKS).find(scope, projection={"outbox": 0})
    audit = await db.collection(AUDIT).find({**scope, "action": "task_deployed"})
    per_item: Counter[str] = Counter(str(h["pending_item_id"]) for h in history)
    audited: Counter[tuple[str, str]] = Counter(
        (str(a["package_id"]), str(a.get("detail", {}).get("pending_item_id"))) for a in audit
    )
    duplicated = (
        sum(n - 1 for n in per_item.values() if n > 1)
        + sum(n - 1 for n in audited.values() if n > 1)
        + max(0, len(runs) - tasks)
    )
    lost = (
        max(0, tasks - len(per_item))
        + max(0, tasks - len(catalog))
        + sum(1 for s in subtasks if s["deploy_status"] != 2)
        + max(0, tasks - len(subtasks))
        + max(0, tasks - len(audited))
    )
    for package_id in packages:
        doc: dict[str, Any] | None = await db.collection(PACKAGES).find_one({"_id": package_id})
        assert doc is not None and doc["deploy_status"] == 2, (
            package_id,
            doc and doc["deploy_status"],
        )
        lost += doc["task_count"] - len(doc.get("finished") or {})
    assert all(h.get("applied") for h in history), "a change recorded but never applied"
    return Tally(tasks, lost, duplicated)
