"""The one small interface every production target implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from releasegate.shared.contracts.deploy import DeployTask


class TargetError(Exception):
    """The target refused; retrying will not help (e.g. a 4xx from a webhook)."""


class TransientTargetError(TargetError):
    """The target is unavailable right now; retried with backoff up to a bound."""


@dataclass(frozen=True)
class Applied:
    rollback: bool = False  # the version is older than the one production had
    previous_version: int | None = None


class Target(Protocol):
    name: str

    async def deploy(self, task: DeployTask, content: Any) -> Applied:
        """Make production hold ``task.version`` (or drop the item, for a delete).
        Called again for the same ``task.idempotency_key`` after a crash: must apply
        the change once."""
        ...

    async def start(self, task: DeployTask) -> None:
        """Start the deployed job (``startup_mode`` 1)."""
        ...
