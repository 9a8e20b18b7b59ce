"""What the review service finishes by itself (in memory, with a fake clock)."""

from __future__ import annotations

import asyncio
from typing import Any

from releasegate.deployer.settings import DeployerSettings
from releasegate.deployer.targets.base import Applied
from releasegate.review.repository import DECISIONS
from releasegate.review.sweeper import package_tasks
from releasegate.shared.bus.topology import REVIEW_INBOX
from releasegate.shared.clock import FakeClock, SystemClock
from releasegate.shared.contracts.deploy import DeployTask
from releasegate.shared.contracts.service import SERVICE_TICK, Tick
from releasegate.shared.readmodels.codes import FAILED, SUCCESSFUL
from releasegate.shared.readmodels.packages import AUDIT, PACKAGES, SUBTASKS
from releasegate.shared.readmodels.production import CATALOG
from tests.embedded import embedded_flow
from tests.helpers import eventually


class HangingTarget:
    name = "hanging"

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def deploy(self, task: DeployTask, content: Any) -> Applied:
        await self.release.wait()
        return Applied()

    async def start(self, task: DeployTask) -> None:
        return None


async def test_a_release_without_progress_is_finished_as_failed() -> None:
    clock = FakeClock(SystemClock().now_ms())
    target = HangingTarget()
    async with embedded_flow(clock=clock, target=target) as (system, flow):
        http = flow.http
        item = (await flow.submit("slow", 1))["pending_item_id"]
        package_id = await flow.package([item])
        r = await flow.deploy([package_id])
        task_id = r.json()["deploy_package_details"][0]["asy_task_id"]
        assert (await flow.system_task(task_id)).json()["status"] == "RUNNING"
        clock.advance(601_000)  # past the default stuck_after_s of 600
        await system.gateway.context.bus.send(
            REVIEW_INBOX.name,
            SERVICE_TICK.envelope(Tick(service="test"), project_id="-", workspace_id="-"),
        )
        done = await flow.until_done(task_id)
        assert done["status"] == "FAILED"
        audit = (
            await http.get(
                f"/v2/demo/factory/release-packages/{package_id}/audit", headers=flow.headers("dev")
            )
        ).json()["entries"]
        assert (
            "no progress for 600s"
            in next(e for e in audit if e["action"] == "task_failed")["reason"]
        )
        # The task is pending again; the late worker's report changes nothing.
        target.release.set()
        await asyncio.sleep(0.1)
        pkg = await system.db.collection(PACKAGES).find_one({"_id": package_id})
        assert pkg is not None and pkg["deploy_status"] == 3


class FirstHangsTarget:
    """The first deploy hangs; the others are recorded."""

    name = "first-hangs"

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.deployed: list[str] = []

    async def deploy(self, task: DeployTask, content: Any) -> Applied:
        if not self.deployed:
            self.deployed.append(task.item_name)
            await self.release.wait()
        else:
            self.deployed.append(task.item_name)
        return Applied()

    async def start(self, task: DeployTask) -> None:
        return None


async def test_a_task_still_queued_when_its_release_is_stopped_never_reaches_production() -> None:
    clock = FakeClock(SystemClock().now_ms())
    target = FirstHangsTarget()
    one_at_a_time = DeployerSettings(dev_mode=True, prefetch=1)
    async with embedded_flow(clock=clock, target=target, deployer_settings=one_at_a_time) as (
        system,
        flow,
    ):
        items = [(await flow.submit(name, 1))["pending_item_id"] for name in ("hangs", "queued")]
        package_id = await flow.package(items)
        r = await flow.deploy([package_id])
        task_id = r.json()["deploy_package_details"][0]["asy_task_id"]
        await eventually(lambda: _done(target.deployed, 1), what="the first deploy hanging")
        clock.advance(601_000)  # past the default stuck_after_s of 600
        await system.gateway.context.bus.send(
            REVIEW_INBOX.name,
            SERVICE_TICK.envelope(Tick(service="test"), project_id="-", workspace_id="-"),
        )
        assert (await flow.until_done(task_id))["status"] == "FAILED"
        # The worker comes back: the queued task finds its outcome decided and is not
        # deployed; the package and production agree that it is not released.
        target.release.set()
        await eventually(lambda: _announced_twice(system), what="both tasks announced")
        assert target.deployed == ["hangs"]
        queued = f"{package_id}:{items[1]}"
        outcome = await system.db.collection(SUBTASKS).find_one({"_id": queued})
        assert outcome is not None and outcome["deploy_status"] == FAILED
        catalog = await system.db.collection(CATALOG).find({})
        assert "queued" not in {entry["item_name"] for entry in catalog}
        pkg = await system.db.collection(PACKAGES).find_one({"_id": package_id})
        assert pkg is not None and pkg["deploy_status"] == FAILED


async def _done(items: list[Any], n: int) -> bool:
    return len(items) >= n


async def _announced_twice(system: Any) -> bool:
    """The deployer published both tasks' outcomes (the queued one's re-announced)."""
    [deployer] = [w for w in system.workers if w.name == "deployer"]
    text = deployer.bus.metrics.render()
    line = 'releasegate_published_total{routing_key="subtask.finished"}'
    return any(s.startswith(line) and float(s.split()[-1]) >= 2 for s in text.splitlines())


async def test_unapplied_decisions_and_abandoned_creations_are_finished() -> None:
    clock = FakeClock(SystemClock().now_ms())
    async with embedded_flow(clock=clock) as (system, flow):
        item = (await flow.submit("x", 1))["pending_item_id"]
        package_id = await flow.package([item])
        # A crash right after the decision was inserted: the package never heard of it.
        await system.db.collection(DECISIONS).insert_one(
            {
                "_id": package_id,
                "decision": "reject",
                "status": 6,
                "by": "u-deployer",
                "by_name": "deployer",
                "at": clock.now_ms(),
                "reason": "crash test",
                "applied": False,
            }
        )
        # And a package creation that died after reserving its tasks.
        other = (await flow.submit("y", 1))["pending_item_id"]
        await system.db.collection(PACKAGES).insert_one(
            {
                "_id": "77",
                "project_id": "demo",
                "workspace_id": "default",
                "state": "creating",
                "created_at": clock.now_ms(),
                "deploy_status": 1,
                "outbox_n": 0,
            }
        )
        from releasegate.shared.bus.topology import SUBMISSION_INBOX
        from releasegate.shared.contracts.tasks import RESERVE_TASKS, ReserveTasks

        reply = await system.gateway.context.bus.request(
            SUBMISSION_INBOX.name,
            RESERVE_TASKS.envelope(
                ReserveTasks(package_id="77", pending_item_ids=[other]),
                project_id="demo",
                workspace_id="default",
            ),
        )
        assert reply.ok
        clock.advance(61_000)
        await system.gateway.context.bus.send(
            REVIEW_INBOX.name,
            SERVICE_TICK.envelope(Tick(service="test"), project_id="-", workspace_id="-"),
        )

        async def settled() -> bool:
            page = await flow.pending()
            flags = {d["item_name"]: d["package_flag"] for d in page["data"]}
            pkg = await system.db.collection(PACKAGES).find_one({"_id": package_id})
            return (
                flags == {"x": 0, "y": 0}
                and pkg is not None
                and pkg["deploy_status"] == 6
                and await system.db.collection(PACKAGES).count({"_id": "77"}) == 0
            )

        await eventually(settled, what="decision applied and abandoned creation undone")


async def test_a_release_cut_short_after_its_package_write_is_finished_not_released_again() -> None:
    """A crash after the package's write, before its audit entry and the decision's
    mark: by the time the sweep finds the decision, the release may be over. The
    sweep writes the lost entry and marks the decision, and releases nothing again."""
    clock = FakeClock(SystemClock().now_ms())
    async with embedded_flow(clock=clock) as (system, flow):
        item = (await flow.submit("x", 1))["pending_item_id"]
        package_id = await flow.package([item])
        r = await flow.deploy([package_id])
        task_id = r.json()["deploy_package_details"][0]["asy_task_id"]
        assert (await flow.until_done(task_id))["status"] == "SUCCESSFUL"
        audit = system.db.collection(AUDIT)
        assert await audit.delete_many({"package_id": package_id, "action": "released"}) == 1
        decisions = system.db.collection(DECISIONS)
        await decisions.update_one({"_id": package_id}, {"$set": {"applied": False}})

        clock.advance(61_000)
        await system.gateway.context.bus.send(
            REVIEW_INBOX.name,
            SERVICE_TICK.envelope(Tick(service="test"), project_id="-", workspace_id="-"),
        )

        async def swept() -> bool:
            decision = await decisions.find_one({"_id": package_id})
            return bool(decision and decision["applied"])

        await eventually(swept, what="the decision applied again")
        assert await audit.count({"package_id": package_id, "action": "released"}) == 1
        await asyncio.sleep(0.1)  # a second release would have gone out by now
        pkg = await system.db.collection(PACKAGES).find_one({"_id": package_id})
        assert pkg is not None and pkg["deploy_status"] == SUCCESSFUL
        assert (await flow.system_task(task_id)).json()["status"] == "SUCCESSFUL"


def test_a_package_stored_before_it_listed_its_tasks_is_swept_by_its_ids() -> None:
    listed = {"task_list": [{"pending_item_id": "a", "item_name": "x"}], "item_ids": ["old"]}
    assert [t["pending_item_id"] for t in package_tasks(listed)] == ["a"]
    assert [t["pending_item_id"] for t in package_tasks({"item_ids": ["a", "b"]})] == ["a", "b"]
