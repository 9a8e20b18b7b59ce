"""The diff of a task's pending version against the previous version submitted and
against the version in production."""

from __future__ import annotations

from typing import Any

from releasegate.shared import diffs
from releasegate.shared.bus.base import Message
from releasegate.shared.contracts.tasks import DiffTask
from releasegate.shared.errors import NOT_FOUND, ReleasegateError
from releasegate.submission.deps import Deps


async def diff_task(msg: Message[DiffTask], deps: Deps) -> dict[str, Any]:
    env = msg.envelope
    task = await deps.store.get_task(msg.payload.pending_item_id)
    if (
        task is None
        or task["project_id"] != env.project_id
        or task["workspace_id"] != env.workspace_id
    ):
        raise ReleasegateError(
            NOT_FOUND, f"Pending item {msg.payload.pending_item_id} does not exist."
        )
    key, version = task["item_key"], task["pending_version"]
    pending = await deps.store.get_version(key, version)
    previous = await deps.store.versions.find_one(
        {"item_key": key, "version": {"$lt": version}}, sort=[("version", -1)]
    )
    item = await deps.store.get_item(key)
    deployed = item.deployed_version if item is not None and item.in_production else None
    production = await deps.store.get_version(key, deployed) if deployed else None
    new_content = pending.get("content") if pending else None
    name = task["item_name"]
    return {
        "pending_item_id": task["_id"],
        "item_name": name,
        "task_type": task["task_type"],
        "pending_version": version,
        "content_available": pending is not None,
        "against_previous": _side(
            previous, previous["version"] if previous else None, new_content, name, version
        ),
        "against_production": _side(production, deployed, new_content, name, version),
    }


def _side(
    old: dict[str, Any] | None, old_version: int | None, new_content: Any, name: str, version: int
) -> dict[str, Any] | None:
    if old_version is None:
        return None
    old_content = old.get("content") if old else None
    return {
        "version": old_version,
        # Only the newest 100 versions are kept: an older one may be gone.
        "content_available": old is not None,
        "diff": diffs.unified(
            old_content, new_content, f"{name} v{old_version}", f"{name} v{version}"
        ),
    }
