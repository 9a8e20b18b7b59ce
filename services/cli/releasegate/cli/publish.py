"""``releasegate publish FILE``: publish an upstream event JSON to the bus, validated
exactly as the consumers will validate it."""

from __future__ import annotations

import json
from typing import Any

from releasegate.cli.infra import amqp_bus
from releasegate.shared.bus.base import decode
from releasegate.shared.config import CommonSettings


async def publish_file(body: dict[str, Any], project: str | None, workspace: str | None) -> str:
    settings = CommonSettings(dev_mode=True)
    if project:
        body.setdefault("project_id", project)
    if workspace:
        body.setdefault("workspace_id", workspace)
    decoded = decode(json.dumps(body).encode(), settings.max_message_bytes)
    if isinstance(decoded, str):
        raise SystemExit(f"not published: {decoded}")
    envelope, _ = decoded
    bus = amqp_bus(settings, "releasegate-publish")
    await bus.start()
    try:
        await bus.publish(envelope)
    finally:
        await bus.close()
    return envelope.message_id
