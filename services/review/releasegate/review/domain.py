"""Review rules, free of I/O: who may be an approver, who may release or revoke a
package, and when a release is complete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from releasegate.shared.contracts.common import Actor
from releasegate.shared.contracts.envelope import Envelope
from releasegate.shared.errors import (
    APPLICANT_UNKNOWN,
    APPROVER_IS_APPLICANT,
    APPROVER_NOT_ELIGIBLE,
    APPROVER_NOT_REVIEWER,
    APPROVER_UNKNOWN,
    FORBIDDEN,
    NOT_AN_APPROVER,
    PACKAGE_ITEMS_INVALID,
    PACKAGE_NOT_REVIEWABLE,
    PACKAGE_RELEASING,
    SELF_RELEASE,
    ReleasegateError,
)
from releasegate.shared.identity import User
from releasegate.shared.readmodels.codes import (
    FAILED,
    REJECTED,
    RELEASING,
    REVOKED,
    START_FAILED,
    SUCCESSFUL,
    TO_BE_REVIEWED,
)

REVIEWER_ROLES = ("admin", "deployer")


@dataclass(frozen=True)
class Policy:
    """Per workspace. Defaults: one approval; four-eyes always."""

    required_approvals: int = 1
    allow_self_release: bool = False


def applicant_of(apply_user_id: str | None, actor: Actor) -> str:
    """The caller applies for themselves; only an admin may apply for someone else."""
    if apply_user_id in (None, actor.user_id):
        return actor.user_id
    if not actor.holds("admin"):
        raise ReleasegateError(FORBIDDEN, "Only an admin may apply on behalf of another user.")
    return apply_user_id


def check_new_package(
    applicant_id: str,
    creator_id: str,
    pending_item_ids: list[str],
    approver_ids: list[str],
    users: dict[str, User],
    project_id: str,
    workspace_id: str,
    reviewer_list: set[str],
) -> None:
    """Raise the specific error for the first rule the request breaks. ``users`` holds
    the applicant and the approvers that exist; ``creator_id`` is the caller, who may
    have applied on behalf of the applicant."""
    applicant = users.get(applicant_id)
    if applicant is None or not applicant.works_in(project_id, workspace_id):
        # Four-eyes rests on the applicant being a real colleague: a package applied
        # for on behalf of a made-up user could be released by the one who made it up.
        raise ReleasegateError(
            APPLICANT_UNKNOWN, f"Applicant {applicant_id} is not a user of {workspace_id}."
        )
    if len(set(pending_item_ids)) != len(pending_item_ids):
        raise ReleasegateError(PACKAGE_ITEMS_INVALID, "pending_item_list has duplicates.")
    if len(set(approver_ids)) != len(approver_ids):
        raise ReleasegateError(PACKAGE_ITEMS_INVALID, "approver_ids has duplicates.")
    for user_id in approver_ids:
        if user_id == applicant_id:
            raise ReleasegateError(
                APPROVER_IS_APPLICANT, f"Approver {user_id} is the applicant; choose someone else."
            )
        if user_id == creator_id:
            raise ReleasegateError(
                APPROVER_IS_APPLICANT,
                f"Approver {user_id} applies on behalf of {applicant_id}; choose someone else.",
            )
        user = users.get(user_id)
        if user is None or user.disabled or user.project_id != project_id:
            raise ReleasegateError(APPROVER_UNKNOWN, f"Approver {user_id} does not exist.")
        if not user.can_review(workspace_id):
            raise ReleasegateError(
                APPROVER_NOT_ELIGIBLE,
                f"Approver {user_id} is neither admin nor deployer of workspace {workspace_id} "
                "and holds no DARTS Administrator or Tenant Administrator role.",
            )
        if reviewer_list and user_id not in reviewer_list:
            raise ReleasegateError(
                APPROVER_NOT_REVIEWER, f"Approver {user_id} is not a reviewer of {workspace_id}."
            )


def check_release(package: dict[str, Any], actor: Actor, policy: Policy) -> None:
    """May ``actor`` approve/release this package now? Roles are the actor's current ones."""
    pid = package["_id"]
    _check_reviewable(package)
    if not actor.holds(*REVIEWER_ROLES):
        raise ReleasegateError(
            FORBIDDEN,
            f"Releasing package {pid} needs the admin or "
            "deployer role, or a tenant administrator role.",
        )
    # Whoever applied on behalf of the applicant counts as an applicant too: four-eyes
    # would be two signatures of one person otherwise.
    applicants = {package["apply_user_id"], package.get("created_by", package["apply_user_id"])}
    if actor.user_id in applicants and not policy.allow_self_release:
        raise ReleasegateError(
            SELF_RELEASE,
            f"Package {pid} was applied for by "
            f"{actor.user_name}; another reviewer must release it.",
        )
    approvers = {a["user_id"] for a in package.get("approvers", [])}
    is_admin = actor.holds("admin")
    if (
        actor.user_id not in approvers
        and actor.user_id != package["apply_user_id"]
        and not is_admin
    ):
        raise ReleasegateError(
            NOT_AN_APPROVER, f"{actor.user_name} is not an approver of package {pid}."
        )


def _check_reviewable(package: dict[str, Any]) -> None:
    status = package["deploy_status"]
    if status == RELEASING:
        raise ReleasegateError(PACKAGE_RELEASING, f"Package {package['_id']} is being released.")
    if status != TO_BE_REVIEWED:
        raise ReleasegateError(
            PACKAGE_NOT_REVIEWABLE,
            f"Package {package['_id']} is not awaiting review (deploy_status {status}).",
        )


RELEASE_DECISIONS = frozenset({"release"})
RETURN_DECISIONS = frozenset({"reject", "revoke"})


def decided_by(decision: dict[str, Any], command: Envelope, kinds: frozenset[str]) -> bool:
    """Did ``command`` make this decision, one of ``kinds`` (what the command decides)?
    A command redelivered after a failure finds the decision it made the first time,
    and finishes it rather than refuse it."""
    return (
        decision.get("correlation_id") == command.correlation_id
        and decision.get("decision") in kinds
    )


def unpack_outcome(package: dict[str, Any], actor: Actor) -> int:
    """REVOKED when the applicant withdraws, REJECTED when a reviewer sends it back."""
    _check_reviewable(package)
    if actor.holds(*REVIEWER_ROLES) and actor.user_id != package["apply_user_id"]:
        return REJECTED
    if actor.user_id == package["apply_user_id"]:
        return REVOKED
    raise ReleasegateError(
        FORBIDDEN,
        f"Only the applicant, a deployer or an admin may revoke package {package['_id']}.",
    )


@dataclass(frozen=True)
class Report:
    """Task outcomes reported together (by one deployer message, or by the sweep),
    by pending item id, and the message that reported them."""

    outcomes: dict[str, dict[str, Any]]
    parent: Envelope | None = None


def release_result(task_count: int, finished: dict[str, dict[str, Any]]) -> int | None:
    """The package's final status once every task reported, else None."""
    if len(finished) < task_count:
        return None
    ok = all(
        f["deploy_status"] == SUCCESSFUL and f.get("start_job_status") != START_FAILED
        for f in finished.values()
    )
    return SUCCESSFUL if ok else FAILED
