"""Builders of upstream event JSON, as an upstream system would send it."""

from __future__ import annotations

from typing import Any


def version_submitted(
    name: str = "daily_orders",
    version: int = 1,
    *,
    task_type: str = "job",
    deleted: bool = False,
    content: Any = None,
    submitter: str = "u-dev",
    submitter_name: str = "dev",
    at: int = 1_763_700_000_000,
    item_id: str | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    if content is None and not deleted:
        content = (
            {"nodes": [{"name": name, "v": version}]}
            if task_type == "job"
            else (f"-- {name} v{version}\nselect {version};\n")
        )
    payload: dict[str, Any] = {
        "item_name": name,
        "task_type": task_type,
        "version": version,
        "deleted": deleted,
        "content": content,
        "submitter_id": submitter,
        "submitter_name": submitter_name,
        "description": f"{name} v{version}",
        "submitted_at": at,
    }
    if item_id:
        payload["item_id"] = item_id
    event: dict[str, Any] = {
        "type": "job.version.submitted",
        "schema_version": 1,
        "payload": payload,
    }
    if message_id:
        event["message_id"] = message_id
    return event
