"""The deployer's work items and what it reports back."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from releasegate.shared.contracts.envelope import Payload, contract


class DeployTask(Payload):
    """One task of a released package, for one deployer worker."""

    package_id: str
    asy_task_id: str
    pending_item_id: str
    item_key: str
    item_name: str
    task_type: int = Field(ge=1, le=3)
    update_type: int = Field(ge=1, le=3)
    version: int = Field(ge=1)
    startup_mode: Literal[0, 1]
    released_by: str
    released_by_name: str
    # The item's production version when it was packaged (None: not in production),
    # if known: a target may write on condition that it still is, and skip the read.
    # Work items sent before it existed say they do not know.
    production_version: int | None = None
    production_version_known: bool = False

    @property
    def idempotency_key(self) -> str:
        """Applying the same package/task/version twice must change production once."""
        return f"{self.package_id}:{self.pending_item_id}:{self.version}"


class SubtaskFinished(Payload):
    package_id: str
    pending_item_id: str
    item_key: str
    version: int
    update_type: int
    deploy_status: Literal[2, 3]
    start_job_status: int = Field(ge=0, le=3)
    reason: str = ""
    rollback: bool = False


class JobStarted(Payload):
    item_key: str
    item_name: str
    version: int
    run_id: str
    package_id: str


DEPLOY_TASK = contract(
    "deploy.task", 1, DeployTask, "work", "Deploy one task of a released package to production."
)
SUBTASK_FINISHED = contract(
    "subtask.finished",
    1,
    SubtaskFinished,
    "event",
    "A task was deployed (and started) or failed, with the reason.",
)
JOB_STARTED = contract(
    "job.started", 1, JobStarted, "event", "A released job was started in production."
)
