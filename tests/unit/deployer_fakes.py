"""Fakes of the deployer's tests: a work item, and a programmable target."""

from __future__ import annotations

from typing import Any

from releasegate.deployer.targets.base import Applied, TargetError, TransientTargetError
from releasegate.shared.contracts.deploy import DeployTask


def work_item(**overrides: Any) -> DeployTask:
    """Task 2 of package 1: job ``a`` version 1."""
    fields: dict[str, Any] = {
        "package_id": "1",
        "asy_task_id": "x",
        "pending_item_id": "2",
        "item_key": "demo/default/job/a",
        "item_name": "a",
        "task_type": 1,
        "update_type": 1,
        "version": 1,
        "startup_mode": 0,
        "released_by": "u-deployer",
        "released_by_name": "deployer",
    }
    return DeployTask(**{**fields, **overrides})


class FakeTarget:
    """Programmable: transient failures before success, refusals, start failures."""

    name = "fake"

    def __init__(
        self,
        transient: int = 0,
        refuse: bool = False,
        refuse_start: bool = False,
        start_transient: int = 0,
    ) -> None:
        self.transient, self.refuse = transient, refuse
        self.refuse_start, self.start_transient = refuse_start, start_transient
        self.deployed: list[str] = []
        self.started: list[str] = []
        self.attempts = 0

    async def deploy(self, task: DeployTask, content: Any) -> Applied:
        self.attempts += 1
        if self.refuse:
            raise TargetError("production refused: schema mismatch")
        if self.transient > 0:
            self.transient -= 1
            raise TransientTargetError("503 from production")
        self.deployed.append(task.idempotency_key)
        return Applied()

    async def start(self, task: DeployTask) -> None:
        if self.refuse_start:
            raise TargetError("scheduler refused to start the job")
        if self.start_transient > 0:
            self.start_transient -= 1
            raise TransientTargetError("scheduler busy")
        self.started.append(task.idempotency_key)
