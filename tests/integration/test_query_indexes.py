"""Every query the API serves is backed by an index declared in code. On MongoDB the
query planner must pick an index scan; FerretDB (no planner to ask) must at least hold
every declared index and answer explain."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.review.repository import ReviewStore
from releasegate.shared.readmodels.packages import PackageQuery, packages_filter
from releasegate.shared.readmodels.pending_items import (
    TASK_INDEXES,
    PendingItemQuery,
    pending_items_filter,
)
from releasegate.shared.store.mongo import MongoCollection, MongoDatabase
from releasegate.submission.repository import SubmissionStore
from tests.infra.servers import Servers

P, W = "p1", "ws1"
QUERIES: list[
    tuple[str, str, dict[str, Any], list[tuple[str, int]]]
] = [  # what, where, filter, sort
    (
        "pending items",
        "submission_tasks",
        pending_items_filter(P, W, PendingItemQuery()),
        [("submit_timestamp", -1), ("_id", -1)],
    ),
    (
        "pending items by submitter",
        "submission_tasks",
        pending_items_filter(P, W, PendingItemQuery(submit_user_name="dev")),
        [("submit_timestamp", -1), ("_id", -1)],
    ),
    (
        "pending items by kind",
        "submission_tasks",
        pending_items_filter(P, W, PendingItemQuery(update_type=1, task_type=1)),
        [("submit_timestamp", -1), ("_id", -1)],
    ),
    (
        "packages",
        "review_packages",
        packages_filter(P, W, PackageQuery()),
        [("apply_timestamp", -1), ("_id", -1)],
    ),
    (
        "packages by status",
        "review_packages",
        packages_filter(P, W, PackageQuery(deploy_status_filter=(1,))),
        [("apply_timestamp", -1), ("_id", -1)],
    ),
    (
        "packages by deploy time",
        "review_packages",
        packages_filter(P, W, PackageQuery(deploy_begin_time=1, order_column="deploy_timestamp")),
        [("deploy_timestamp", -1), ("_id", -1)],
    ),
    ("package items", "review_package_items", {"package_id": "1"}, [("position", 1)]),
    ("audit", "review_audit", {"package_id": "1"}, [("at", 1), ("seq", 1)]),
    (
        "system task",
        "review_packages",
        {"asy_task_id": "1", "project_id": P, "workspace_id": W, "state": "ready"},
        [],
    ),
    ("deploy progress", "deployer_subtasks", {"package_id": "1"}, []),
    ("tasks of a package", "submission_tasks", {"package_id": "1"}, []),
]


def _stages(plan: Any) -> list[str]:
    if isinstance(plan, dict):
        found = [plan["stage"]] if "stage" in plan else []
        for value in plan.values():
            found += _stages(value)
        return found
    if isinstance(plan, list):
        return [s for v in plan for s in _stages(v)]
    return []


# The declared index meant to serve each query, in the same order.
EXPECTED_INDEX = [
    "list_by_time",
    "list_by_submitter",
    "list_by_kind",
    "by_apply_time",
    "by_status",
    "by_deploy_time",
    "by_package",
    "by_package_time",
    "by_async_task",
    "by_package",
    "by_package",
]


@pytest.mark.parametrize(
    ("what", "collection", "filt", "sort", "index"),
    [(*q, i) for q, i in zip(QUERIES, EXPECTED_INDEX, strict=True)],
    ids=[q[0] for q in QUERIES],
)
async def test_queries_use_declared_indexes(
    servers: Servers,
    db_name: str,
    what: str,
    collection: str,
    filt: dict[str, Any],
    sort: list[tuple[str, int]],
    index: str,
) -> None:
    db = MongoDatabase(servers.mongodb_url, db_name)
    try:
        await SubmissionStore(db).ensure_indexes()
        await ReviewStore(db).ensure_indexes()
        from releasegate.deployer.repository import DeployerStore

        await DeployerStore(db).ensure_indexes()
        coll = db.collection(collection)
        assert isinstance(coll, MongoCollection)
        await coll.insert_one({"_id": "seed", "project_id": P, "workspace_id": W})
        plan = await coll.explain(filt, sort or None)
        if servers.mongodb_is_ferretdb:
            names = [i["name"] async for i in await db.client[db_name][collection].list_indexes()]
            assert index in names, f"{what}: index {index} missing on {collection}: {names}"
            assert plan  # explain answers
        else:
            stages = _stages(plan.get("queryPlanner", {}).get("winningPlan", {}))
            assert "IXSCAN" in stages and "COLLSCAN" not in stages, (what, stages)
    finally:
        await db.close()


def test_every_list_index_leads_with_the_tenant_scope() -> None:
    for spec in TASK_INDEXES[:3]:
        assert [k for k, _ in spec.keys[:3]] == ["project_id", "workspace_id", "state"]
