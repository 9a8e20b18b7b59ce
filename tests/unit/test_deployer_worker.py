"""The deployer's worker logic with fake targets (in memory): retries with backoff,
failures with reasons, startup, deletes and rollbacks, idempotent redelivery, and the
review service finishing a stuck release."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from releasegate.cli.embedded import Embedded
from releasegate.deployer import domain
from releasegate.deployer.settings import DeployerSettings
from releasegate.deployer.targets.base import Applied
from releasegate.shared.contracts.deploy import DeployTask
from releasegate.shared.readmodels.production import CATALOG, HISTORY
from tests.embedded import embedded_flow
from tests.flows import Flow
from tests.helpers import RecordingBus
from tests.unit.deployer_fakes import FakeTarget, work_item


@pytest.fixture
async def make() -> AsyncIterator[Any]:
    async with contextlib.AsyncExitStack() as stack:

        async def factory(target: Any | None = None, attempts: int = 4) -> tuple[Embedded, Flow]:
            settings = DeployerSettings(
                dev_mode=True,
                target_attempts=attempts,
                target_backoff_s=0.001,
                target_backoff_max_s=0.005,
            )
            return await stack.enter_async_context(
                embedded_flow(target=target, deployer_settings=settings)
            )

        yield factory


async def release(flow: Flow, names: list[str], **kw: Any) -> tuple[str, dict[str, Any]]:
    ids = [(await flow.submit(n, 1))["pending_item_id"] for n in names]
    package_id = await flow.package(ids)
    r = await flow.deploy([package_id], **kw)
    assert r.status_code == 200, r.text
    return package_id, await flow.until_done(r.json()["deploy_package_details"][0]["asy_task_id"])


async def test_transient_errors_are_retried_until_success(make: Any) -> None:
    target = FakeTarget(transient=2, start_transient=1)
    _, flow = await make(target)
    _, task = await release(flow, ["a"])
    assert task["status"] == "SUCCESSFUL"
    assert target.attempts == 3 and len(target.deployed) == 1 and len(target.started) == 1


async def test_exhausted_retries_fail_the_task_with_the_reason(make: Any) -> None:
    target = FakeTarget(transient=10)
    _, flow = await make(target, attempts=3)
    package_id, task = await release(flow, ["a"])
    assert task["status"] == "FAILED" and target.attempts == 3
    details = (await flow.details(package_id)).json()
    assert details["release_package"]["deploy_status"] == 3
    assert details["task_details"][0]["deploy_status"] == 3
    audit = (
        await flow.http.get(
            f"/v2/demo/factory/release-packages/{package_id}/audit", headers=flow.headers("dev")
        )
    ).json()["entries"]
    failed = next(e for e in audit if e["action"] == "task_failed")
    assert "503 from production" in failed["reason"] and "gave up after 3" in failed["reason"]
    # The failed task is pending again, ready for a new package.
    assert (await flow.pending())["data"][0]["package_flag"] == 0


async def test_a_refusal_fails_at_once(make: Any) -> None:
    target = FakeTarget(refuse=True)
    _, flow = await make(target)
    _, task = await release(flow, ["a", "b"])
    assert task["status"] == "FAILED" and target.attempts == 2
    assert [s["status"] for s in task["subtasks"]] == ["FAILED", "FAILED"]


async def test_a_failed_start_fails_the_package(make: Any) -> None:
    target = FakeTarget(refuse_start=True)
    _, flow = await make(target)
    package_id, task = await release(flow, ["job"])
    assert task["status"] == "FAILED"
    # The poll's subtask says why its package failed, as the task details do.
    assert [s["status"] for s in task["subtasks"]] == ["FAILED"]
    details = (await flow.details(package_id)).json()
    assert details["release_package"]["deploy_status"] == 3
    [detail] = details["task_details"]
    assert (detail["deploy_status"], detail["start_job_status"]) == (2, 3)


async def test_catalog_delete_and_rollback(make: Any) -> None:
    system, flow = await make()
    await release(flow, ["item"])
    ids = [(await flow.submit("item", 2))["pending_item_id"]]
    v2 = await flow.package(ids)
    r = await flow.deploy([v2])
    await flow.until_done(r.json()["deploy_package_details"][0]["asy_task_id"])
    catalog = system.db.collection(CATALOG)
    [entry] = await catalog.find({})
    assert entry["version"] == 2 and not entry["deleted"]
    # Releasing an older version again is a rollback, kept in the history.
    from releasegate.shared.bus.topology import DEPLOYER_WORK
    from releasegate.shared.contracts.deploy import DEPLOY_TASK

    old = DeployTask(
        package_id="1",
        asy_task_id="1",
        pending_item_id="9",
        item_key=entry["_id"],
        item_name="item",
        task_type=1,
        update_type=2,
        version=1,
        startup_mode=0,
        released_by="u-admin",
        released_by_name="admin",
    )
    await system.gateway.context.bus.send(
        DEPLOYER_WORK.name, DEPLOY_TASK.envelope(old, project_id="demo", workspace_id="default")
    )
    from tests.helpers import eventually

    async def rolled_back() -> bool:
        doc = await system.db.collection(HISTORY).find_one({"_id": old.idempotency_key})
        return bool(doc and doc["applied"])

    await eventually(rolled_back, what="the rollback applied")
    rollback = await system.db.collection(HISTORY).find_one({"_id": old.idempotency_key})
    assert rollback is not None and rollback["rollback"] is True
    assert rollback["previous_version"] == 2
    assert (await catalog.find_one({}))["version"] == 1  # type: ignore[index]
    # A delete removes the item from production.
    await flow.submit("item", 3, deleted=True)
    pending = (await flow.pending())["data"][0]
    assert pending["update_type"] == 3
    delete = await flow.package([pending["pending_item_id"]])
    r = await flow.deploy([delete])
    await flow.until_done(r.json()["deploy_package_details"][0]["asy_task_id"])
    assert (await catalog.find_one({}))["deleted"] is True  # type: ignore[index]
    assert await system.db.collection(HISTORY).count({"item_key": entry["_id"]}) == 4


async def test_redelivered_work_is_applied_once(make: Any) -> None:
    target = FakeTarget()
    system, flow = await make(target)
    package_id, _ = await release(flow, ["a"])
    from releasegate.shared.bus.topology import DEPLOYER_WORK
    from releasegate.shared.contracts.deploy import DEPLOY_TASK

    item = await system.db.collection("review_package_items").find_one({})
    assert item is not None
    again = DeployTask(
        package_id=package_id,
        asy_task_id="x",
        pending_item_id=item["pending_item_id"],
        item_key=item["item_key"],
        item_name="a",
        task_type=1,
        update_type=1,
        version=1,
        startup_mode=1,
        released_by="u-deployer",
        released_by_name="deployer",
    )
    bus = system.gateway.context.bus
    for _ in range(3):
        await bus.send(
            DEPLOYER_WORK.name,
            DEPLOY_TASK.envelope(again, project_id="demo", workspace_id="default"),
        )
    import asyncio

    await asyncio.sleep(0.2)
    assert len(target.deployed) == 1 and len(target.started) == 1


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    import random

    rng = random.Random(7)
    for attempt in range(8):
        delay = domain.backoff_s(attempt, 0.1, 2.0, rng)
        assert 0 <= delay <= min(2.0, 0.1 * 2**attempt)
    assert len({domain.backoff_s(3, 0.1, 2.0, rng) for _ in range(20)}) > 10


async def test_production_items_and_history_show_what_was_live_when(make: Any) -> None:
    _, flow = await make()
    await release(flow, ["live_job"])
    v2 = await flow.package([(await flow.submit("live_job", 2))["pending_item_id"]])
    r = await flow.deploy([v2])
    await flow.until_done(r.json()["deploy_package_details"][0]["asy_task_id"])
    items = (
        await flow.http.get("/v2/demo/factory/production/items", headers=flow.headers("dev"))
    ).json()
    assert [(i["item_name"], i["version"]) for i in items["data"]] == [("live_job", 2)]
    history = (
        await flow.http.get(
            "/v2/demo/factory/production/history",
            params={"item_name": "LIVE"},
            headers=flow.headers("dev"),
        )
    ).json()
    assert [(h["version"], h["previous_version"], h["rollback"]) for h in history["data"]] == [
        (2, 1, False),
        (1, None, False),
    ]
    assert history["total"] == 2 and history["data"][0]["released_by_name"] == "deployer"


async def test_two_workers_running_the_same_task_record_one_outcome() -> None:
    """A duplicate delivery may run on another worker at the same time: both may
    call the target (which dedupes by idempotency key), one outcome is recorded."""
    import asyncio

    from releasegate.deployer import bootstrap as deployer
    from releasegate.shared.bus.memory import InMemoryBus, MemoryBroker
    from releasegate.shared.bus.topology import DEPLOYER_WORK, REVIEW_INBOX
    from releasegate.shared.contracts.deploy import DEPLOY_TASK
    from releasegate.shared.contracts.envelope import Envelope
    from releasegate.shared.readmodels.packages import SUBTASKS
    from releasegate.shared.store.memory import MemoryDatabase

    class SlowTarget(FakeTarget):
        async def deploy(self, task: DeployTask, content: Any) -> Applied:
            await asyncio.sleep(0.05)
            return await super().deploy(task, content)

    broker, db, target = MemoryBroker(), MemoryDatabase(), SlowTarget()
    settings = DeployerSettings(dev_mode=True, prefetch=1)  # one each
    workers = [deployer.build(settings, InMemoryBus(broker), db, target=target) for _ in range(2)]
    for w in workers:
        await w.start()
    sender = InMemoryBus(broker)
    task = work_item(startup_mode=0)
    envelope = DEPLOY_TASK.envelope(task, project_id="demo", workspace_id="default")
    await sender.send(DEPLOYER_WORK.name, envelope)
    await sender.send(DEPLOYER_WORK.name, envelope)
    await asyncio.sleep(0.3)
    outcomes = await db.collection(SUBTASKS).find({})
    assert len(outcomes) == 1
    assert len(target.deployed) == 2  # both ran; the target saw one idempotency key
    assert set(target.deployed) == {task.idempotency_key}
    # Both deliveries announce the one recorded outcome, under one message id.
    inbox = broker.queues[REVIEW_INBOX.name].items
    bodies = [inbox.get_nowait().body for _ in range(inbox.qsize())]
    announced = [Envelope.model_validate_json(b) for b in bodies]
    assert [e.type for e in announced] == ["subtask.finished"] * 2
    assert len({e.message_id for e in announced}) == 1
    assert all(e.payload["deploy_status"] == outcomes[0]["deploy_status"] for e in announced)
    for w in workers:
        await w.stop()


async def test_a_task_left_starting_by_a_killed_worker_runs_again() -> None:
    """A worker killed after "deployed, starting" left SUCCESSFUL + starting and no
    outcome: the redelivery must start the job and announce, not skip it as done."""
    from releasegate.deployer.deps import Deps
    from releasegate.deployer.repository import DeployerStore
    from releasegate.deployer.work import deploy_task
    from releasegate.shared.bus.base import Message
    from releasegate.shared.clock import SystemClock
    from releasegate.shared.contracts.deploy import DEPLOY_TASK
    from releasegate.shared.locks import KeyedLocks
    from releasegate.shared.readmodels.codes import START_RUNNING, START_SUCCEEDED, SUCCESSFUL
    from releasegate.shared.store.memory import MemoryDatabase

    store, bus, locks, target = (
        DeployerStore(MemoryDatabase()),
        RecordingBus(),
        KeyedLocks(),
        FakeTarget(),
    )
    deps = Deps(store, target, locks, bus, SystemClock())  # type: ignore[arg-type]
    task = work_item(startup_mode=1)
    await store.record_progress(
        "1:2",
        {
            "package_id": "1",
            "pending_item_id": "2",
            "deploy_status": SUCCESSFUL,
            "start_job_status": START_RUNNING,
            "updated_at": 1,
        },
    )
    envelope = DEPLOY_TASK.envelope(task, project_id="demo", workspace_id="default")
    await deploy_task(Message(envelope, task, redelivered=True), deps)
    assert target.started == [task.idempotency_key]
    [finished] = bus.envelopes
    assert finished.type == "subtask.finished"
    assert finished.payload["start_job_status"] == START_SUCCEEDED


async def test_a_catalog_write_without_its_history_is_completed_on_redelivery() -> None:
    """A worker killed between the catalog write and the history entry: the
    redelivery records the change once, with the version it really replaced."""
    from releasegate.deployer.targets.catalog import CatalogTarget
    from releasegate.shared.clock import FakeClock
    from releasegate.shared.store.memory import MemoryDatabase

    db = MemoryDatabase()
    target = CatalogTarget(db, RecordingBus(), FakeClock())  # type: ignore[arg-type]
    await target.deploy(work_item(version=3, package_id="0", pending_item_id="1"), {"v": 3})
    task = work_item(version=2)  # a rollback from 3 to 2
    applied = await target.deploy(task, {"v": 2})
    assert (applied.rollback, applied.previous_version) == (True, 3)
    # Undo the history entry as if the worker had died right after the catalog write.
    await db.collection(HISTORY).delete_one({"_id": task.idempotency_key})

    again = await target.deploy(task, {"v": 2})

    assert (again.rollback, again.previous_version) == (True, 3)
    entry = await db.collection(HISTORY).find_one({"_id": task.idempotency_key})
    assert entry is not None and entry["previous_version"] == 3 and entry["applied"]
    live = await db.collection(CATALOG).find_one({"_id": task.item_key})
    assert live is not None and live["version"] == 2
