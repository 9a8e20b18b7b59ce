"""Events that upstream systems (the dev environment) publish to the bus or POST to
``/v2/{project_id}/factory/events``. These are public contracts: change them only by
adding a new schema version."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from releasegate.shared.contracts.envelope import Payload, contract

TaskType = Literal["job", "script", "resource"]
ItemName = Annotated[str, Field(min_length=1, max_length=128)]
UserId = Annotated[str, Field(min_length=1, max_length=64)]
UserName = Annotated[str, Field(min_length=1, max_length=128)]
# Job definitions are JSON objects, scripts are text; 2 MiB is far above any real job.
Content = dict[str, Any] | str


class UpstreamPayload(Payload):
    """What the HTTP ingress checks of every upstream event before it publishes it."""

    @property
    def actor_id(self) -> str:
        """The user the event speaks for."""
        raise NotImplementedError

    @property
    def records_production(self) -> bool:
        """Whether it sets what production runs, without a review."""
        return False


class VersionSubmitted(UpstreamPayload):
    """A job, script or resource version was submitted in the dev environment."""

    item_name: ItemName
    item_id: str | None = Field(
        None, max_length=64, description="The item's id in dev; derived from its name if absent."
    )
    task_type: TaskType
    version: int = Field(ge=1, description="Version number in dev, increasing per item.")
    deleted: bool = Field(False, description="The item was deleted in dev (update_type delete).")
    content: Content | None = Field(
        None, description="Job definition (JSON object) or script text; absent when deleted."
    )
    submitter_id: UserId
    submitter_name: UserName
    description: str = Field("", max_length=128, description="Change description.")
    submitted_at: int = Field(ge=0, description="Submission time, ms since epoch.")

    @property
    def actor_id(self) -> str:
        return self.submitter_id

    @model_validator(mode="after")
    def _content_matches_kind(self) -> VersionSubmitted:
        if not self.deleted and self.content is None:
            raise ValueError("content is required unless the item was deleted")
        if (
            self.task_type == "job"
            and self.content is not None
            and not isinstance(self.content, dict)
        ):
            raise ValueError("a job's content is its definition, a JSON object")
        return self


class ImportedJob(Payload):
    item_name: ItemName
    item_id: str | None = Field(None, max_length=64)
    version: int = Field(ge=1)
    content: dict[str, Any]
    status: Literal["submitted", "released"] = Field(
        description="submitted: a release task is made; released: recorded as deployed."
    )


class JobsImported(UpstreamPayload):
    """An admin imported jobs into the workspace."""

    jobs: list[ImportedJob] = Field(min_length=1, max_length=1000)
    importer_id: UserId
    importer_name: UserName
    description: str = Field("", max_length=128)
    imported_at: int = Field(ge=0)

    @property
    def actor_id(self) -> str:
        return self.importer_id

    @property
    def records_production(self) -> bool:
        return any(job.status == "released" for job in self.jobs)


class JobCreated(UpstreamPayload):
    """A real-time single-task job was created with subjobs: the job gets one release
    task, its subjobs none."""

    item_name: ItemName
    item_id: str | None = Field(None, max_length=64)
    version: int = Field(1, ge=1)
    content: dict[str, Any]
    subjobs: list[ItemName] = Field(default_factory=list, max_length=1000)
    realtime: bool = True
    creator_id: UserId
    creator_name: UserName
    description: str = Field("", max_length=128)
    created_at: int = Field(ge=0)

    @property
    def actor_id(self) -> str:
        return self.creator_id


VERSION_SUBMITTED = contract(
    "job.version.submitted",
    1,
    VersionSubmitted,
    "upstream",
    "A version of a job, script or resource was submitted in dev.",
)
JOBS_IMPORTED = contract(
    "job.imported",
    1,
    JobsImported,
    "upstream",
    "Jobs were imported; status submitted makes release tasks, released records deployment.",
)
JOB_CREATED = contract(
    "job.created",
    1,
    JobCreated,
    "upstream",
    "A real-time single-task job was created (one release task, none for its subjobs).",
)
