"""A poll reads the view the review service stored after each change of the package
(``review_system_tasks``): the same answer as one rendered from the package, never
replaced by an older one, and written again by the retry that follows a crash between
the package's write and its view's. Without a stored view, the package document alone
answers: it lists its tasks and carries each task's recorded outcome."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from releasegate.review.deps import Deps
from releasegate.review.progress import subtask_finished
from releasegate.review.repository import ReviewStore, with_sets
from releasegate.shared.readmodels.codes import RELEASING, SUCCESSFUL
from releasegate.shared.readmodels.packages import PACKAGE_ITEMS, PACKAGES, READY
from releasegate.shared.readmodels.releases import system_task, system_task_json
from releasegate.shared.readmodels.system_tasks import SYSTEM_TASKS, view_document
from releasegate.shared.store.base import StoreUnavailable, UpdateOutcome
from releasegate.shared.store.memory import MemoryCollection, MemoryDatabase
from tests.flows import Flow
from tests.helpers import ReadCountingDatabase
from tests.unit.conftest import Api
from tests.unit.review_fakes import PACKAGE, releasing, report


@pytest.fixture
def flow(api: Api) -> Flow:
    return Flow(api.http, api.tokens, "demo")


# A package released before views were stored, without its task list.
SAMPLE = {
    "_id": "7",
    "asy_task_id": "99",
    "project_id": "p",
    "workspace_id": "w",
    "state": READY,
    "package_name": "nightly",
    "apply_timestamp": 1_000,
    "deploy_timestamp": 2_000,
    "last_progress_at": 3_000,
    "deploy_status": RELEASING,
    "finished": {"a": {"deploy_status": SUCCESSFUL, "updated_at": 4_000}},
}


async def _stored(api: Api, asy_task_id: str) -> dict[str, Any] | None:
    return await api.system.db.collection(SYSTEM_TASKS).find_one({"_id": asy_task_id})


async def test_a_release_is_polled_from_its_stored_view(api: Api, flow: Flow) -> None:
    items = [(await flow.submit(name, 1))["pending_item_id"] for name in ("v_a", "v_b")]
    package_id = await flow.package(items)
    r = await flow.deploy([package_id])
    asy_task_id = r.json()["deploy_package_details"][0]["asy_task_id"]
    done = await flow.until_done(asy_task_id)
    assert done["status"] == "SUCCESSFUL"

    stored = await _stored(api, asy_task_id)
    assert stored is not None and stored["package_id"] == package_id
    assert stored["rank"] == 3 + 2  # ended: beyond any releasing state of 2 tasks
    assert json.loads(stored["body"]) == done == (await flow.system_task(asy_task_id)).json()

    # Without its view (a package released before views were stored), the package
    # itself answers, the same.
    await api.system.db.collection(SYSTEM_TASKS).delete_one({"_id": asy_task_id})
    assert (await flow.system_task(asy_task_id)).json() == done
    # Another project's caller does not see it, with or without a view.
    db = api.system.db
    assert await system_task_json(db, "other", "default", asy_task_id) is None


async def test_waiting_for_approval_then_revoked(api: Api, flow: Flow) -> None:
    policy = flow.url("/approval-policy")
    r = await flow.http.put(policy, json={"required_approvals": 2}, headers=flow.headers("admin"))
    assert r.status_code == 200, r.text
    item = (await flow.submit("v_wait", 1))["pending_item_id"]
    package_id = await flow.package([item], approvers=["u-deployer", "u-admin"])
    first = await flow.deploy([package_id])
    asy_task_id = first.json()["deploy_package_details"][0]["asy_task_id"]
    stored = await _stored(api, asy_task_id)
    assert stored is not None and json.loads(stored["body"])["status"] == "WAITING_APPROVAL"

    assert (await flow.unpack([package_id], reason="not this week")).status_code == 200
    polled = (await flow.system_task(asy_task_id)).json()
    assert polled["status"] == "FAILED"
    assert [s["status"] for s in polled["subtasks"]] == ["FAILED"]  # it never ran
    # It ended when it was returned, and says so.
    package = await api.system.db.collection(PACKAGES).find_one({"_id": package_id})
    assert package is not None
    ended = package["returned_at"]
    assert polled["endTime"] == polled["lastUpdate"] == ended
    assert [s["lastUpdate"] for s in polled["subtasks"]] == [ended]
    stored = await _stored(api, asy_task_id)
    assert stored is not None and json.loads(stored["body"]) == polled


async def test_a_poll_reads_one_document() -> None:
    db = ReadCountingDatabase()
    tasks = [
        {"pending_item_id": "a", "item_name": "job a"},
        {"pending_item_id": "b", "item_name": "b"},
    ]
    await MemoryDatabase.collection(db, PACKAGES).insert_one({**SAMPLE, "task_list": tasks})

    view = await system_task(db, "p", "w", "99")

    assert db.reads == Counter({PACKAGES: 1})
    assert view is not None and view.status == "RUNNING" and view.lastUpdate == 4_000
    assert [(s.id, s.name, s.status, s.lastUpdate) for s in view.subtasks] == [
        ("99-1", "job a", "SUCCESSFUL", 4_000),
        ("99-2", "b", "RUNNING", 3_000),
    ]


async def test_a_package_stored_without_its_task_list_reads_its_items() -> None:
    db = ReadCountingDatabase()
    await MemoryDatabase.collection(db, PACKAGES).insert_one(SAMPLE)
    for position, item in enumerate(("a", "b")):
        await MemoryDatabase.collection(db, PACKAGE_ITEMS).insert_one(
            {
                "_id": f"7:{item}",
                "package_id": "7",
                "position": position,
                "pending_item_id": item,
                "item_name": item,
            }
        )

    view = await system_task(db, "p", "w", "99")

    assert db.reads == Counter({PACKAGES: 1, PACKAGE_ITEMS: 1})
    assert view is not None and [s.status for s in view.subtasks] == ["SUCCESSFUL", "RUNNING"]


def _package(**fields: Any) -> dict[str, Any]:
    """``SAMPLE`` as stored now: with its task count and list."""
    tasks = [{"pending_item_id": t, "item_name": t} for t in "ab"]
    return {**SAMPLE, "task_count": 2, "task_list": tasks, **fields}


async def test_a_view_never_replaces_a_newer_one() -> None:
    store = ReviewStore(MemoryDatabase())
    ended = _package(
        deploy_status=SUCCESSFUL,
        finished={k: {"deploy_status": SUCCESSFUL, "updated_at": 5} for k in "ab"},
    )
    await store.refresh_view(ended)
    await store.refresh_view(_package())  # a late writer with an older state

    stored = await store.system_tasks.find_one({"_id": "99"})
    assert stored is not None and json.loads(stored["body"])["status"] == "SUCCESSFUL"
    assert view_document(_package(asy_task_id=None)) is None  # not deployed: no view


def test_with_sets_applies_paths_to_a_copy() -> None:
    package = _package(finished={})
    after = with_sets(package, {"finished.a": {"deploy_status": 2}, "last_progress_at": 9})
    assert after["finished"] == {"a": {"deploy_status": 2}} and after["last_progress_at"] == 9
    assert package["finished"] == {} and package["last_progress_at"] == 3_000


class FailingViews(MemoryCollection):
    """The views' collection, failing its next write while ``failing`` is set."""

    def __init__(self) -> None:
        super().__init__(SYSTEM_TASKS)
        self.failing = False

    async def update_one(
        self, filter: Mapping[str, Any], update: Mapping[str, Any], **kw: Any
    ) -> UpdateOutcome:
        if self.failing:
            self.failing = False
            raise StoreUnavailable("the database went away after the package's write")
        return await super().update_one(filter, update, **kw)


async def _crash_then_redeliver(task: str, deps: Deps, views: FailingViews) -> dict[str, Any]:
    """Report ``task`` with the view's write failing, then again; the views before and
    after the redelivery."""
    views.failing = True
    with pytest.raises(StoreUnavailable):
        await subtask_finished(report(task), deps)
    before = await views.find_one({"_id": "t"})
    await subtask_finished(report(task), deps)  # the redelivery: nothing new to record
    after = await views.find_one({"_id": "t"})
    assert before is not None and after is not None
    return {"before": json.loads(before["body"]), "after": json.loads(after["body"])}


async def test_the_retry_after_a_crash_between_package_and_view_writes_the_view() -> None:
    tasks = ["a", "b", "c"]
    deps, packages, _ = await releasing(tasks)
    listed = [{"pending_item_id": t, "item_name": t} for t in tasks]
    await packages.update_one(
        {"_id": PACKAGE},
        {"$set": {"state": READY, "package_name": "n", "apply_timestamp": 1, "task_list": listed}},
    )
    views = FailingViews()
    deps.store.system_tasks = views
    await subtask_finished(report("a"), deps)

    def states(view: dict[str, Any]) -> list[str]:
        return [view["status"], *(s["status"] for s in view["subtasks"])]

    # While the package releases, and for the report that ends it.
    middle = await _crash_then_redeliver("b", deps, views)
    assert states(middle["before"]) == ["RUNNING", "SUCCESSFUL", "RUNNING", "RUNNING"]
    assert states(middle["after"]) == ["RUNNING", "SUCCESSFUL", "SUCCESSFUL", "RUNNING"]
    last = await _crash_then_redeliver("c", deps, views)
    assert states(last["before"]) == ["RUNNING", "SUCCESSFUL", "SUCCESSFUL", "RUNNING"]
    assert states(last["after"]) == ["SUCCESSFUL"] * 4
