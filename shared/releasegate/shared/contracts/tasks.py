"""Events the submission service announces about release tasks."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from releasegate.shared.contracts.common import Actor
from releasegate.shared.contracts.envelope import Payload, contract


class TaskSnapshot(Payload):
    pending_item_id: str
    item_key: str
    task_id: str
    item_name: str
    task_type: int = Field(ge=1, le=3)
    update_type: int = Field(ge=1, le=3)
    pending_version: int = Field(ge=1)
    submit_user_id: str
    submit_user_name: str
    submit_timestamp: int


class PackagedTask(TaskSnapshot):
    """A task as it goes into a package: its identity in dev and its content."""

    script_id: str
    deployed_version: int | None = None
    content: dict[str, Any] | str | None = None


class ReserveTasks(Payload):
    """Review asks: put these pending tasks into this package (all or none)."""

    package_id: str
    pending_item_ids: list[str] = Field(min_length=1, max_length=100)


class ReleaseTasks(Payload):
    """Review says: this package will never exist; return its tasks to pending."""

    package_id: str


class RevokeTasks(Payload):
    actor: Actor
    pending_item_ids: list[str] = Field(min_length=1, max_length=100)
    reason: str = Field("", max_length=512)


class DiffTask(Payload):
    pending_item_id: str


class TaskCreated(Payload):
    task: TaskSnapshot


class TaskSuperseded(Payload):
    """The item's unpackaged task now points at a newer version."""

    task: TaskSnapshot
    previous_version: int


class TaskRevoked(Payload):
    task: TaskSnapshot
    revoked_by: str
    revoked_at: int
    reason: str = Field("", max_length=512)


RESERVE_TASKS = contract(
    "submission.tasks.reserve",
    1,
    ReserveTasks,
    "command",
    "Reserve pending tasks for a package, all or none.",
)
RELEASE_TASKS = contract(
    "submission.tasks.release",
    1,
    ReleaseTasks,
    "command",
    "Return the tasks of an abandoned package to pending.",
)
REVOKE_TASKS = contract(
    "submission.tasks.revoke",
    1,
    RevokeTasks,
    "command",
    "Revoke pending tasks that should not be released.",
)
DIFF_TASK = contract(
    "submission.task.diff",
    1,
    DiffTask,
    "command",
    "Diff a task's version against the previous and the production one.",
)
TASK_CREATED = contract(
    "task.created", 1, TaskCreated, "event", "A release task (pending item) was created."
)
TASK_SUPERSEDED = contract(
    "task.superseded",
    1,
    TaskSuperseded,
    "event",
    "An unpackaged task was moved to a newer version of its item.",
)
TASK_REVOKED = contract(
    "task.revoked", 1, TaskRevoked, "event", "A task was revoked and left the pending list."
)
