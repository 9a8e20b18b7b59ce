"""The catalog target writes a change on condition that production is still at the
version the package saw (one command, no read); when it is not, it reads production
and writes as before. Either way the history records the version really replaced."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.deployer.targets.catalog import CatalogTarget
from releasegate.shared.clock import FakeClock
from releasegate.shared.readmodels.production import CATALOG, HISTORY
from tests.helpers import ReadCountingDatabase, RecordingBus
from tests.unit.deployer_fakes import work_item


def target_on(db: ReadCountingDatabase) -> CatalogTarget:
    return CatalogTarget(db, RecordingBus(), FakeClock())  # type: ignore[arg-type]


def expecting(production: int | None, **fields: Any) -> Any:
    return work_item(production_version=production, production_version_known=True, **fields)


async def live(db: ReadCountingDatabase) -> dict[str, Any]:
    doc = await db.collection(CATALOG).find_one({"_id": work_item().item_key})
    assert doc is not None
    return doc


async def history(db: ReadCountingDatabase, task: Any) -> dict[str, Any]:
    entry = await db.collection(HISTORY).find_one({"_id": task.idempotency_key})
    assert entry is not None and entry["applied"]
    return entry


async def test_an_unchanged_production_is_written_without_reading_it() -> None:
    db = ReadCountingDatabase()
    target = target_on(db)
    first = expecting(None, version=1, package_id="0", pending_item_id="1")
    await target.deploy(first, {"v": 1})
    second = expecting(1, version=2)

    applied = await target.deploy(second, {"v": 2})

    assert db.reads[CATALOG] == 0
    assert (applied.rollback, applied.previous_version) == (False, 1)
    assert (await live(db))["version"] == 2
    assert (await history(db, second))["previous_version"] == 1


@pytest.mark.parametrize(
    ("seen", "deleted", "previous"),
    [
        (1, False, 3),  # production moved on since packaging
        (None, False, 3),  # the package saw nothing; production has a version
        (3, True, None),  # the package saw a version; production deleted it since
    ],
)
async def test_a_production_that_moved_is_read_and_recorded_as_it_is(
    seen: int | None, deleted: bool, previous: int | None
) -> None:
    db = ReadCountingDatabase()
    target = target_on(db)
    await target.deploy(work_item(version=3, package_id="0", pending_item_id="1"), {"v": 3})
    if deleted:
        await target.deploy(
            work_item(version=3, update_type=3, package_id="0", pending_item_id="9"), None
        )
    task = expecting(seen, version=2)

    applied = await target.deploy(task, {"v": 2})

    assert applied.previous_version == previous
    assert applied.rollback == (previous == 3)
    assert (await live(db))["version"] == 2 and not (await live(db))["deleted"]
    assert (await history(db, task))["previous_version"] == previous


async def test_a_deleted_item_counts_as_not_in_production() -> None:
    db = ReadCountingDatabase()
    target = target_on(db)
    await target.deploy(work_item(version=3, package_id="0", pending_item_id="1"), {"v": 3})
    await target.deploy(
        work_item(version=3, update_type=3, package_id="0", pending_item_id="9"), None
    )
    reads = db.reads[CATALOG]
    task = expecting(None, version=4)

    applied = await target.deploy(task, {"v": 4})

    assert db.reads[CATALOG] == reads
    assert (applied.rollback, applied.previous_version) == (False, None)
    assert (await live(db))["version"] == 4


async def test_a_change_applied_already_is_not_written_again() -> None:
    """A duplicate of a task that went through, after production came back to the
    version it expects (another package rolled back): the history stops it."""
    db = ReadCountingDatabase()
    target = target_on(db)
    await target.deploy(work_item(version=1, package_id="0", pending_item_id="1"), {"v": 1})
    task = expecting(1, version=2)
    await target.deploy(task, {"v": 2})
    await target.deploy(work_item(version=1, package_id="5", pending_item_id="6"), {"v": 1})

    again = await target.deploy(task, {"v": 2})

    assert (again.rollback, again.previous_version) == (False, 1)
    assert (await live(db))["version"] == 1  # the rollback stands


async def test_a_conditional_write_without_its_history_is_completed_on_redelivery() -> None:
    db = ReadCountingDatabase()
    target = target_on(db)
    await target.deploy(work_item(version=3, package_id="0", pending_item_id="1"), {"v": 3})
    task = expecting(3, version=2)  # a rollback from 3 to 2
    await target.deploy(task, {"v": 2})
    await db.collection(HISTORY).delete_one({"_id": task.idempotency_key})  # died here

    again = await target.deploy(task, {"v": 2})

    assert (again.rollback, again.previous_version) == (True, 3)
    assert (await history(db, task))["previous_version"] == 3
    assert (await live(db))["version"] == 2
