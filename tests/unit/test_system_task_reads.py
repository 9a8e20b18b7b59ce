"""Without a stored view (``test_system_task_views``), a poll of a system task is
answered from the package document alone: the package lists its tasks and carries
each task's recorded outcome."""

from __future__ import annotations

from collections import Counter

from releasegate.shared.readmodels.codes import RELEASING, SUCCESSFUL
from releasegate.shared.readmodels.packages import PACKAGE_ITEMS, PACKAGES, READY
from releasegate.shared.readmodels.releases import system_task
from releasegate.shared.store.memory import MemoryDatabase
from tests.helpers import ReadCountingDatabase

PACKAGE = {
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


async def test_a_poll_reads_one_document() -> None:
    db = ReadCountingDatabase()
    tasks = [
        {"pending_item_id": "a", "item_name": "job a"},
        {"pending_item_id": "b", "item_name": "b"},
    ]
    await MemoryDatabase.collection(db, PACKAGES).insert_one({**PACKAGE, "task_list": tasks})

    view = await system_task(db, "p", "w", "99")

    assert db.reads == Counter({PACKAGES: 1})
    assert view is not None and view.status == "RUNNING" and view.lastUpdate == 4_000
    assert [(s.id, s.name, s.status, s.lastUpdate) for s in view.subtasks] == [
        ("99-1", "job a", "SUCCESSFUL", 4_000),
        ("99-2", "b", "RUNNING", 3_000),
    ]


async def test_a_package_stored_without_its_task_list_reads_its_items() -> None:
    db = ReadCountingDatabase()
    await MemoryDatabase.collection(db, PACKAGES).insert_one(PACKAGE)
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
