"""Commands to the review service (request/reply from the gateway) and the events
it announces about release packages."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from releasegate.shared.contracts.common import Actor
from releasegate.shared.contracts.envelope import Payload, contract

PackageId = str
UserId = str


class CreatePackage(Payload):
    actor: Actor
    package_name: str = Field(min_length=1, max_length=128)
    apply_user_id: str | None = Field(None, max_length=64)
    pending_item_ids: list[str] = Field(min_length=1, max_length=100)
    approver_ids: list[str] = Field(min_length=1, max_length=20)


class DeployPackages(Payload):
    actor: Actor
    package_ids: list[PackageId] = Field(min_length=1, max_length=100)
    startup_mode: Literal[0, 1] = 1


class UnpackPackages(Payload):
    actor: Actor
    package_ids: list[PackageId] = Field(min_length=1, max_length=100)
    reason: str = Field("", max_length=512)


class ManageReviewer(Payload):
    actor: Actor
    action: Literal["add", "remove"]
    user_id: str = Field(min_length=1, max_length=64)


class SetPolicy(Payload):
    actor: Actor
    required_approvals: int = Field(1, ge=1, le=10)
    allow_self_release: bool = False


class PackageTask(Payload):
    pending_item_id: str
    item_key: str
    pending_version: int


class PackageCreated(Payload):
    package_id: PackageId
    package_name: str
    tasks: list[PackageTask]
    apply_user_id: str


class PackageReturned(Payload):
    """Rejected by a reviewer or revoked by its applicant: its tasks are pending again."""

    package_id: PackageId
    tasks: list[PackageTask]
    status: Literal[6, 7]
    by: UserId
    reason: str = ""


class PackageReleasing(Payload):
    package_id: PackageId
    asy_task_id: str
    startup_mode: Literal[0, 1]
    released_by: UserId
    task_count: int


class TaskOutcome(Payload):
    pending_item_id: str
    item_key: str
    version: int
    update_type: int
    deploy_status: int
    reason: str = ""


class PackageFinished(Payload):
    package_id: PackageId
    asy_task_id: str
    deploy_status: Literal[2, 3]
    tasks: list[TaskOutcome]
    released_by: UserId


CREATE_PACKAGE = contract(
    "review.package.create",
    1,
    CreatePackage,
    "command",
    "Create a release package from pending items.",
)
DEPLOY_PACKAGES = contract(
    "review.package.deploy",
    1,
    DeployPackages,
    "command",
    "Approve and release packages (counts as an approval).",
)
UNPACK_PACKAGES = contract(
    "review.package.unpack",
    1,
    UnpackPackages,
    "command",
    "Revoke packages: a reviewer rejects, the applicant withdraws.",
)
MANAGE_REVIEWER = contract(
    "review.reviewer.manage", 1, ManageReviewer, "command", "Add or remove a workspace reviewer."
)
SET_POLICY = contract(
    "review.policy.set", 1, SetPolicy, "command", "Set a workspace's approval policy."
)
PACKAGE_CREATED = contract(
    "package.created",
    1,
    PackageCreated,
    "event",
    "A release package was created; its tasks are packaged.",
)
PACKAGE_RETURNED = contract(
    "package.returned",
    1,
    PackageReturned,
    "event",
    "A package was rejected or revoked; its tasks are pending again.",
)
PACKAGE_RELEASING = contract(
    "package.releasing",
    1,
    PackageReleasing,
    "event",
    "A package was approved and is being released.",
)
PACKAGE_FINISHED = contract(
    "package.finished",
    1,
    PackageFinished,
    "event",
    "A package release ended: successful or failed, per task.",
)
