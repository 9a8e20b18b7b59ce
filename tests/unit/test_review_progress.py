"""Task outcomes are group-committed (in memory): the reports of a package that queue
up behind its lock are stored in one package update, each exactly once; the package
finishes once; a failed write fails every report of its batch, and a retry stores
them."""

from __future__ import annotations

import asyncio
from typing import Any

from releasegate.review.deps import Deps
from releasegate.review.progress import keep_released_items, subtask_finished
from releasegate.shared.readmodels.codes import FAILED, SUCCESSFUL
from releasegate.shared.readmodels.packages import PACKAGE_ITEMS
from releasegate.shared.store.base import StoreUnavailable
from tests.helpers import ReadCountingDatabase, RecordingBus
from tests.unit.review_fakes import FINISHED, PACKAGE, releasing, report


async def package(deps: Deps) -> dict[str, Any]:
    found = await deps.store.packages.find_one({"_id": PACKAGE})
    assert found is not None
    return found


async def finished_once(deps: Deps, bus: RecordingBus, tasks: list[str]) -> None:
    """Every outcome recorded once, the package finished, announced once."""
    pkg = await package(deps)
    assert pkg["deploy_status"] == SUCCESSFUL and sorted(pkg["finished"]) == sorted(tasks)
    assert pkg["outbox"] == {} and pkg["outbox_n"] == 0
    assert bus.published == [FINISHED]
    assert await deps.store.audit.count({"action": "task_deployed"}) == len(tasks)
    assert await deps.store.audit.count({"action": "finished"}) == 1


async def test_reports_that_queue_up_are_stored_in_one_package_update() -> None:
    tasks = [str(n) for n in range(20)]
    deps, packages, bus = await releasing(tasks)

    await asyncio.gather(*(subtask_finished(report(t), deps) for t in tasks))

    # The first report alone, the 19 that queued up behind it together, and the
    # removal of package.finished from the outbox once it was published.
    assert packages.updates == 3
    await finished_once(deps, bus, tasks)


async def test_a_failed_write_fails_every_report_of_its_batch_and_a_retry_stores_them() -> None:
    tasks = [str(n) for n in range(10)]
    deps, packages, bus = await releasing(tasks)
    packages.failing = True

    failed = await asyncio.gather(
        *(subtask_finished(report(t), deps) for t in tasks), return_exceptions=True
    )

    assert packages.updates == 2  # two batches: the first report, then the nine others
    assert all(isinstance(f, StoreUnavailable) for f in failed)  # every report raised
    assert (await package(deps))["finished"] == {}
    packages.failing = False
    await asyncio.gather(*(subtask_finished(report(t), deps) for t in tasks))  # redelivered
    await finished_once(deps, bus, tasks)


async def test_duplicate_and_late_reports_are_ignored() -> None:
    tasks = [str(n) for n in range(10)]
    deps, _, bus = await releasing(tasks)

    await asyncio.gather(*(subtask_finished(report(t), deps) for t in tasks + tasks))
    await subtask_finished(report("3", FAILED), deps)  # late, and says otherwise

    await finished_once(deps, bus, tasks)
    assert (await package(deps))["finished"]["3"]["deploy_status"] == SUCCESSFUL


async def test_reports_trickling_in_linger_together_but_the_last_one_is_written_at_once() -> None:
    """With a 30 s linger: the package's first report is written at once (how many
    are left is not known yet), the next ones wait for each other, and the one that
    finishes the package ends the wait, so the release ends without lingering."""
    tasks = [str(n) for n in range(6)]
    deps, packages, bus = await releasing(tasks, linger_s=30)

    await asyncio.wait_for(subtask_finished(report(tasks[0]), deps), 5)
    assert packages.updates == 1 and deps.remaining.get(PACKAGE) == 5
    middle = [asyncio.create_task(subtask_finished(report(t), deps)) for t in tasks[1:5]]
    for _ in range(20):
        await asyncio.sleep(0)
    assert packages.updates == 1  # four reports waiting for more
    await asyncio.wait_for(asyncio.gather(subtask_finished(report(tasks[5]), deps), *middle), 5)

    # The first report; the five others in one update; package.finished's removal.
    assert packages.updates == 3
    await finished_once(deps, bus, tasks)
    assert deps.remaining.get(PACKAGE) is None
    # Its tasks were read beside the package, for package.finished, which lists all.
    [event] = bus.envelopes
    assert [t["pending_item_id"] for t in event.payload["tasks"]] == tasks


async def test_the_report_that_finishes_a_package_it_released_does_not_read_its_tasks() -> None:
    """The tasks of a package this process released are kept from its release, so the
    last report reads only the package (the release's last step); what
    package.finished lists is the same, and the package is then forgotten."""
    tasks = [str(n) for n in range(4)]
    db = ReadCountingDatabase()
    deps, _, bus = await releasing(tasks, db=db)
    items = await deps.store.items.find({"package_id": PACKAGE})
    keep_released_items(PACKAGE, items, deps)
    before = db.reads[PACKAGE_ITEMS]

    await asyncio.gather(*(subtask_finished(report(t), deps) for t in tasks))

    assert db.reads[PACKAGE_ITEMS] == before
    await finished_once(deps, bus, tasks)
    [event] = bus.envelopes
    assert [(t["pending_item_id"], t["item_key"]) for t in event.payload["tasks"]] == [
        (t, f"demo/default/job/j{t}") for t in tasks
    ]
    assert deps.released_items.get(PACKAGE) is None
