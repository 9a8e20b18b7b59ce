"""A finished package's deployed tasks leave the list and their items record the
version now in production; a write that fails part-way is finished by the message's
redelivery, with nothing skipped."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.shared.bus.base import Message
from releasegate.shared.contracts import Envelope
from releasegate.shared.contracts.packages import PACKAGE_FINISHED, PackageFinished, TaskOutcome
from releasegate.shared.contracts.upstream import VersionSubmitted
from releasegate.shared.readmodels.codes import SUCCESSFUL
from releasegate.shared.readmodels.pending_items import STATE_PACKAGED, STATE_RELEASED, TASKS
from releasegate.shared.store.memory import MemoryDatabase
from releasegate.submission.domain import Item
from releasegate.submission.packaging import package_finished
from releasegate.submission.repository import SubmissionStore
from releasegate.submission.versions import submit_version
from tests.events import version_submitted
from tests.helpers import RecordingBus
from tests.unit.submission_fakes import deps_of

NAMES = ["a", "b", "c"]


class ItemWriteFailsOnce(SubmissionStore):
    """Recording the second item's release fails once (the database went away)."""

    def __init__(self, db: MemoryDatabase) -> None:
        super().__init__(db)
        self.calls, self.failed = 0, False

    async def set_item(self, key: str, fields: dict[str, Any]) -> Item | None:
        self.calls += 1
        if self.calls == 2 and not self.failed:
            self.failed = True
            raise ConnectionError("database away")
        return await super().set_item(key, fields)


def message(payload: Any, contract: Any) -> Message[Any]:
    envelope = contract.envelope(payload, project_id="p", workspace_id="w")
    return Message(envelope, payload)


async def test_a_failed_item_write_is_redone_by_the_redelivery() -> None:
    db = MemoryDatabase()
    store = ItemWriteFailsOnce(db)
    deps = deps_of(db, RecordingBus(), store)
    for name in NAMES:
        raw = {**version_submitted(name, 1), "project_id": "p", "workspace_id": "w"}
        envelope = Envelope.model_validate(raw)
        await submit_version(
            Message(envelope, VersionSubmitted.model_validate(raw["payload"])), deps
        )
    tasks = await db.collection(TASKS).find({})
    assert len(tasks) == len(NAMES)
    for t in tasks:
        await db.collection(TASKS).update_one(
            {"_id": t["_id"]}, {"$set": {"state": STATE_PACKAGED, "package_id": "9"}}
        )
    finished = message(
        PackageFinished(
            package_id="9",
            asy_task_id="t9",
            deploy_status=SUCCESSFUL,
            released_by="u-deployer",
            tasks=[
                TaskOutcome(
                    pending_item_id=t["_id"],
                    item_key=t["item_key"],
                    version=1,
                    update_type=t["update_type"],
                    deploy_status=SUCCESSFUL,
                )
                for t in tasks
            ],
        ),
        PACKAGE_FINISHED,
    )

    with pytest.raises(ConnectionError):
        await package_finished(finished, deps)
    await package_finished(finished, deps)  # redelivered

    states = {t["item_name"]: t["state"] for t in await db.collection(TASKS).find({})}
    assert states == dict.fromkeys(NAMES, STATE_RELEASED)
    items = {i["item_name"]: i for i in await store.items.find({})}
    assert {n: items[n]["deployed_version"] for n in NAMES} == dict.fromkeys(NAMES, 1)
