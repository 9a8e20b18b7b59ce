"""The review service's collections: packages and their items (read models the
gateway serves), decisions and approvals (decided once by unique inserts), the audit
trail, reviewers and approval policies."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from releasegate.review.domain import Policy
from releasegate.shared.readmodels.packages import (
    AUDIT,
    AUDIT_INDEXES,
    PACKAGE_INDEXES,
    PACKAGE_ITEM_INDEXES,
    PACKAGE_ITEMS,
    PACKAGES,
    POLICIES,
    REVIEWER_INDEXES,
    REVIEWERS,
    SUBTASKS,
)
from releasegate.shared.readmodels.system_tasks import SYSTEM_TASKS, view_document
from releasegate.shared.store.base import Collection, Database, DuplicateKey, IndexSpec
from releasegate.shared.store.outbox import Outgoing, with_outbox

DECISIONS = "review_decisions"
APPROVALS = "review_approvals"

DECISION_INDEXES = [IndexSpec((("applied", 1), ("at", 1)), name="unapplied")]
APPROVAL_INDEXES = [IndexSpec((("package_id", 1),), name="by_package")]


def audit_entry(
    package: dict[str, Any],
    action: str,
    at: int,
    *,
    actor_id: str = "",
    actor_name: str = "",
    reason: str = "",
    key: str = "",
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An entry of the audit trail; its id makes a replayed entry a duplicate."""
    return {
        "_id": f"{package['_id']}:{action}:{key or actor_id}",
        "package_id": package["_id"],
        "project_id": package["project_id"],
        "workspace_id": package["workspace_id"],
        "action": action,
        "at": at,
        # Orders entries written in the same millisecond (one writer per package).
        "seq": time.monotonic_ns(),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "reason": reason,
        "detail": detail or {},
    }


def with_sets(package: dict[str, Any], sets: dict[str, Any]) -> dict[str, Any]:
    """``package`` after ``$set`` of ``sets`` (top-level or ``field.key`` paths);
    ``package`` itself is not changed."""
    after, copied = dict(package), set()
    for path, value in sets.items():
        field, _, key = path.partition(".")
        if not key:
            after[field] = value
            continue
        if field not in copied:
            after[field] = dict(after.get(field) or {})
            copied.add(field)
        after[field][key] = value
    return after


class ReviewStore:
    def __init__(self, db: Database) -> None:
        self.packages: Collection = db.collection(PACKAGES)
        self.items: Collection = db.collection(PACKAGE_ITEMS)
        self.decisions: Collection = db.collection(DECISIONS)
        self.approvals: Collection = db.collection(APPROVALS)
        self.audit: Collection = db.collection(AUDIT)
        self.reviewers: Collection = db.collection(REVIEWERS)
        self.policies: Collection = db.collection(POLICIES)
        # The deployer's outcomes: read, and inserted only by the stuck-release sweep
        # where none exists (a task's first outcome insert decides it).
        self.subtasks: Collection = db.collection(SUBTASKS)
        self.system_tasks: Collection = db.collection(SYSTEM_TASKS)  # what a poll reads

    async def ensure_indexes(self) -> None:
        await self.packages.ensure_indexes(PACKAGE_INDEXES)
        await self.items.ensure_indexes(PACKAGE_ITEM_INDEXES)
        await self.decisions.ensure_indexes(DECISION_INDEXES)
        await self.approvals.ensure_indexes(APPROVAL_INDEXES)
        await self.audit.ensure_indexes(AUDIT_INDEXES)
        await self.reviewers.ensure_indexes(REVIEWER_INDEXES)

    # -- packages --------------------------------------------------------
    async def get_package(self, package_id: str) -> dict[str, Any] | None:
        return await self.packages.find_one({"_id": package_id}, projection={"outbox": 0})

    async def update_package(
        self,
        package: dict[str, Any],
        sets: dict[str, Any],
        events: list[Outgoing] | None = None,
    ) -> None:
        """``$set`` ``sets`` on ``package`` (as read under its lock), storing ``events``
        in its outbox; then the view a poll reads, rendered from the result."""
        await self.write_package(package, sets, events)
        await self.refresh_view(with_sets(package, sets))

    async def write_package(
        self, package: dict[str, Any], sets: dict[str, Any], events: list[Outgoing] | None = None
    ) -> None:
        """``update_package`` without the view, for a writer that refreshes it later."""
        update = with_outbox({"$set": sets}, events or [])
        await self.packages.update_one({"_id": package["_id"]}, update)

    async def refresh_view(self, package: dict[str, Any]) -> None:
        """Store the poll's view of ``package`` unless a newer one is stored: a retry
        after the package was written and its view was not writes it then."""
        doc = view_document(package)
        if doc is None:
            return
        asy_task_id = doc.pop("_id")
        older = {"_id": asy_task_id, "rank": {"$lt": doc["rank"]}}
        # The upsert of a view no newer than the stored one finds no match and
        # collides on _id.
        with contextlib.suppress(DuplicateKey):
            await self.system_tasks.update_one(older, {"$set": doc}, upsert=True)

    async def insert_items(self, docs: list[dict[str, Any]]) -> None:
        # One batch; a replay after a crash finds some snapshots already there.
        await self.items.insert_many(docs, ignore_duplicates=True)

    # -- decided once ----------------------------------------------------
    async def decide(self, package_id: str, decision: dict[str, Any]) -> bool:
        """First writer wins: True if this decision is the package's one decision.
        The document keeps what is needed to apply it again after a crash."""
        try:
            await self.decisions.insert_one({"_id": package_id, **decision, "applied": False})
            return True
        except DuplicateKey:
            return False

    async def get_decision(self, package_id: str) -> dict[str, Any] | None:
        return await self.decisions.find_one({"_id": package_id})

    async def decision_applied(self, package_id: str) -> None:
        await self.decisions.update_one({"_id": package_id}, {"$set": {"applied": True}})

    async def unapplied_decisions(self, older_than: int) -> list[dict[str, Any]]:
        return await self.decisions.find({"applied": False, "at": {"$lte": older_than}}, limit=200)

    async def approve(self, package_id: str, user_id: str, at: int) -> int:
        """Record an approval (once per user) and return the package's approval count."""
        with contextlib.suppress(DuplicateKey):
            await self.approvals.insert_one(
                {
                    "_id": f"{package_id}:{user_id}",
                    "package_id": package_id,
                    "user_id": user_id,
                    "at": at,
                }
            )
        return await self.approvals.count({"package_id": package_id})

    # -- audit -----------------------------------------------------------
    async def record(self, package: dict[str, Any], action: str, at: int, **fields: Any) -> None:
        """Append one entry (see ``audit_entry``) to the audit trail."""
        await self.record_all([audit_entry(package, action, at, **fields)])

    async def record_all(self, entries: list[dict[str, Any]]) -> None:
        """Append entries in one round trip; a replayed entry is a no-op."""
        await self.audit.insert_many(entries, ignore_duplicates=True)

    # -- reviewers and policy --------------------------------------------
    async def reviewer_ids(self, project_id: str, workspace_id: str) -> set[str]:
        docs = await self.reviewers.find({"project_id": project_id, "workspace_id": workspace_id})
        return {d["user_id"] for d in docs}

    async def add_reviewer(
        self, project_id: str, workspace_id: str, user_id: str, user_name: str, by: str, at: int
    ) -> None:
        await self.reviewers.update_one(
            {"_id": f"{project_id}/{workspace_id}/{user_id}"},
            {
                "$set": {
                    "project_id": project_id,
                    "workspace_id": workspace_id,
                    "user_id": user_id,
                    "user_name": user_name,
                    "added_by": by,
                    "added_at": at,
                }
            },
            upsert=True,
        )

    async def remove_reviewer(self, project_id: str, workspace_id: str, user_id: str) -> int:
        return await self.reviewers.delete_one({"_id": f"{project_id}/{workspace_id}/{user_id}"})

    async def policy(self, project_id: str, workspace_id: str) -> Policy:
        doc = await self.policies.find_one({"_id": f"{project_id}/{workspace_id}"})
        if doc is None:
            return Policy()
        return Policy(doc["required_approvals"], doc["allow_self_release"])

    async def set_policy(
        self, project_id: str, workspace_id: str, policy: Policy, by: str, at: int
    ) -> None:
        await self.policies.update_one(
            {"_id": f"{project_id}/{workspace_id}"},
            {
                "$set": {
                    "project_id": project_id,
                    "workspace_id": workspace_id,
                    "required_approvals": policy.required_approvals,
                    "allow_self_release": policy.allow_self_release,
                    "updated_by": by,
                    "updated_at": at,
                }
            },
            upsert=True,
        )
