"""Deployer handlers and their table (deploying tasks to a target: the deploy issue)."""

from __future__ import annotations

from dataclasses import dataclass

from releasegate.shared.bus.base import Handler
from releasegate.shared.clock import Clock


@dataclass(frozen=True)
class Deps:
    clock: Clock


def handler_table(deps: Deps) -> dict[str, Handler]:
    """Every message type the deployer handles -> its handler."""
    return {}
