"""Events the submission service announces about release tasks."""

from __future__ import annotations

from pydantic import Field

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
