"""Review commands redelivered after they failed part way (at-least-once delivery):
the redelivery finishes what the first delivery started and answers as it would
have; the sweep finishes what no redelivery did. The failures are injected by the
store the system is composed on (tests/unit/review_faults.py)."""

from __future__ import annotations

from typing import Any

from releasegate.cli.embedded import Embedded
from releasegate.review import domain
from releasegate.review.repository import DECISIONS
from releasegate.shared.bus.topology import REVIEW_INBOX
from releasegate.shared.clock import FakeClock, SystemClock
from releasegate.shared.contracts.common import Actor
from releasegate.shared.contracts.packages import CREATE_PACKAGE, CreatePackage
from releasegate.shared.contracts.service import SERVICE_TICK, Tick
from releasegate.shared.ids import stable_id
from releasegate.shared.readmodels.codes import REJECTED, SUCCESSFUL, TO_BE_REVIEWED
from releasegate.shared.readmodels.packages import AUDIT, PACKAGE_ITEMS, PACKAGES
from releasegate.shared.readmodels.pending_items import TASKS
from tests.flows import Flow
from tests.helpers import eventually
from tests.unit.review_faults import faulty_flow

INT64_MAX = 2**63 - 1


def action(name: str) -> Any:
    return lambda doc: doc.get("action") == name


async def actions(system: Embedded, package_id: str) -> list[str]:
    entries = await system.db.collection(AUDIT).find({"package_id": package_id}, sort=[("seq", 1)])
    return [e["action"] for e in entries]


async def tick(system: Embedded) -> None:
    await system.gateway.context.bus.send(
        REVIEW_INBOX.name,
        SERVICE_TICK.envelope(Tick(service="test"), project_id="-", workspace_id="-"),
    )


async def pending_again(flow: Flow, *names: str) -> bool:
    flags = {d["item_name"]: d["package_flag"] for d in (await flow.pending())["data"]}
    return all(flags.get(n) == 0 for n in names)


# -- unpack ------------------------------------------------------------------


async def test_a_rejection_redelivered_after_its_audit_entry_failed_succeeds_and_records_it() -> (
    None
):
    async with faulty_flow() as (system, flow, faults):
        item = (await flow.submit("r", 1))["pending_item_id"]
        package_id = await flow.package([item])
        faults.fail(AUDIT, "insert", action("rejected"))  # once: the command is redelivered

        r = await flow.unpack([package_id], user="deployer", reason="not yet")

        assert r.status_code == 200, r.text
        assert await actions(system, package_id) == ["created", "rejected"]
        decision = await system.db.collection(DECISIONS).find_one({"_id": package_id})
        assert decision is not None and decision["applied"]
        pkg = await system.db.collection(PACKAGES).find_one({"_id": package_id})
        assert pkg is not None and pkg["deploy_status"] == REJECTED
        await eventually(lambda: pending_again(flow, "r"), what="the task pending again")


async def test_the_sweep_writes_a_rejection_entry_the_command_never_could() -> None:
    clock = FakeClock(SystemClock().now_ms())
    async with faulty_flow(clock=clock) as (system, flow, faults):
        item = (await flow.submit("r", 1))["pending_item_id"]
        package_id = await flow.package([item])
        # A fault of the entry itself: retries are bounded, the command gives up.
        faults.fail(AUDIT, "insert", action("rejected"), error=RuntimeError("bad"), once=False)

        r = await flow.unpack([package_id], user="deployer")

        assert r.status_code != 200
        faults.clear()
        clock.advance(11_000)  # past the sweep's grace for unapplied decisions
        await tick(system)

        async def applied() -> bool:
            decision = await system.db.collection(DECISIONS).find_one({"_id": package_id})
            return bool(decision and decision["applied"])

        await eventually(applied, what="the decision applied by the sweep")
        assert await actions(system, package_id) == ["created", "rejected"]


# -- create ------------------------------------------------------------------


async def only_package(system: Embedded, name: str) -> dict[str, Any]:
    [package] = await system.db.collection(PACKAGES).find({"package_name": name})
    return package


async def test_a_creation_redelivered_after_its_audit_entry_failed_answers_the_same_package() -> (
    None
):
    async with faulty_flow() as (system, flow, faults):
        item = (await flow.submit("c", 1))["pending_item_id"]
        faults.fail(AUDIT, "insert", action("created"))

        r = await flow.create_package([item], name="once")

        assert r.status_code == 200, r.text
        package_id = r.json()["release_package_id"]
        package = await only_package(system, "once")
        assert package["_id"] == package_id and package["state"] == "ready"
        assert package_id.isdigit() and int(package_id) <= INT64_MAX
        assert await actions(system, package_id) == ["created"]
        task = await system.db.collection(TASKS).find_one({"_id": item})
        assert task is not None and task["package_id"] == package_id


async def test_a_creation_redelivered_after_its_items_failed_resumes_its_draft() -> None:
    async with faulty_flow() as (system, flow, faults):
        a = (await flow.submit("a", 1))["pending_item_id"]
        b = (await flow.submit("b", 1))["pending_item_id"]
        faults.fail(PACKAGE_ITEMS, "insert", lambda doc: True)

        r = await flow.create_package([a, b], name="resumed")

        assert r.status_code == 200, r.text
        package = await only_package(system, "resumed")
        assert package["_id"] == r.json()["release_package_id"]
        assert [t["pending_item_id"] for t in package["task_list"]] == [a, b]
        items = await system.db.collection(PACKAGE_ITEMS).find({"package_id": package["_id"]})
        assert sorted(i["pending_item_id"] for i in items) == sorted([a, b])
        assert await actions(system, package["_id"]) == ["created"]


async def test_the_package_id_is_the_command_s_own_and_a_colliding_id_is_passed_over() -> None:
    async with faulty_flow() as (system, flow, _):
        item = (await flow.submit("c", 1))["pending_item_id"]
        command = CREATE_PACKAGE.envelope(
            CreatePackage(
                actor=Actor(user_id="u-dev", user_name="dev", roles=["developer"]),
                package_name="mine",
                pending_item_ids=[item],
                approver_ids=["u-deployer"],
            ),
            project_id="demo",
            workspace_id="default",
        )
        taken = stable_id("package", command.message_id, "0")
        await system.db.collection(PACKAGES).insert_one({"_id": taken, "state": "ready"})
        bus = system.gateway.context.bus

        first = await bus.request(REVIEW_INBOX.name, command)
        again = await bus.request(REVIEW_INBOX.name, command)  # delivered twice

        assert first.ok and again.ok, (first, again)
        assert first.result == again.result
        assert first.result is not None
        assert first.result["release_package_id"] == stable_id("package", command.message_id, "1")
        assert (await only_package(system, "mine"))["state"] == "ready"


# -- reserve -----------------------------------------------------------------


async def test_a_reservation_failed_part_way_is_returned_by_the_sweep() -> None:
    clock = FakeClock(SystemClock().now_ms())
    async with faulty_flow(clock=clock) as (system, flow, faults):
        a = (await flow.submit("a", 1))["pending_item_id"]
        b = (await flow.submit("b", 1))["pending_item_id"]
        # A fault of b's document: a is reserved, then the reservation gives up.
        faults.fail(
            TASKS, "update", lambda f: f.get("_id") == b, error=RuntimeError("bad"), once=False
        )

        r = await flow.create_package([a, b])

        assert r.status_code != 200
        faults.clear()
        clock.advance(61_000)  # past creating_timeout_s
        await tick(system)
        await eventually(lambda: pending_again(flow, "a", "b"), what="both tasks pending again")

        async def no_draft() -> bool:
            return await system.db.collection(PACKAGES).count({}) == 0

        await eventually(no_draft, what="the draft removed")
        assert (await flow.create_package([a])).status_code == 200


# -- deploy ------------------------------------------------------------------


async def test_a_deploy_redelivered_after_its_second_package_failed_releases_both() -> None:
    async with faulty_flow() as (system, flow, faults):
        one = await flow.package([(await flow.submit("m1", 1))["pending_item_id"]], name="one")
        two = await flow.package([(await flow.submit("m2", 1))["pending_item_id"]], name="two")
        faults.fail("review_approvals", "insert", lambda doc: doc["package_id"] == two)

        r = await flow.deploy([one, two])

        assert r.status_code == 200, r.text
        details = r.json()["deploy_package_details"]
        assert [d["package_id"] for d in details] == [int(one), int(two)]
        for detail in details:
            assert (await flow.until_done(detail["asy_task_id"]))["status"] == "SUCCESSFUL"
        for package_id in (one, two):
            pkg = await system.db.collection(PACKAGES).find_one({"_id": package_id})
            assert pkg is not None and pkg["deploy_status"] == SUCCESSFUL
            assert (await actions(system, package_id)).count("released") == 1


async def test_a_deploy_of_a_package_someone_else_decided_is_still_refused() -> None:
    async with faulty_flow() as (system, flow, _):
        one = await flow.package([(await flow.submit("m1", 1))["pending_item_id"]], name="one")
        two = await flow.package([(await flow.submit("m2", 1))["pending_item_id"]], name="two")
        assert (await flow.deploy([one])).status_code == 200

        r = await flow.deploy([one, two])

        assert r.status_code == 400, r.text
        assert r.json()["error_code"] in ("DLF.3010", "DLF.3012")  # released, or releasing
        pkg = await system.db.collection(PACKAGES).find_one({"_id": two})
        assert pkg is not None and pkg["deploy_status"] == TO_BE_REVIEWED


async def test_a_deploy_redelivered_after_its_release_write_failed_applies_its_own_decision() -> (
    None
):
    async with faulty_flow() as (system, flow, faults):
        package_id = await flow.package([(await flow.submit("m", 1))["pending_item_id"]])
        # The decision is in, the package's write fails: the redelivery finds the
        # decision it made itself, not a rival's.
        faults.fail(PACKAGES, "update", lambda f: f.get("_id") == package_id)

        r = await flow.deploy([package_id])

        assert r.status_code == 200, r.text
        [detail] = r.json()["deploy_package_details"]
        assert (await flow.until_done(detail["asy_task_id"]))["status"] == "SUCCESSFUL"
        assert (await actions(system, package_id)).count("released") == 1


def test_a_command_owns_only_the_kind_of_decision_it_makes() -> None:
    # An unpack sharing a correlation id with the deploy that released a package must
    # not take that release for its own (and return a released package's tasks).
    command = CREATE_PACKAGE.envelope(
        CreatePackage(
            actor=Actor(user_id="u", user_name="u", roles=["admin"]),
            package_name="p",
            pending_item_ids=["1"],
            approver_ids=["a"],
        ),
        project_id="p",
        workspace_id="w",
    )
    release = {"decision": "release", "correlation_id": command.correlation_id}
    assert domain.decided_by(release, command, domain.RELEASE_DECISIONS)
    assert not domain.decided_by(release, command, domain.RETURN_DECISIONS)
    other = {"decision": "reject", "correlation_id": "someone else's"}
    assert not domain.decided_by(other, command, domain.RETURN_DECISIONS)
