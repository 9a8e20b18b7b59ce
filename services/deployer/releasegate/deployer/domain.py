"""Deployer rules, free of I/O: retry delays, and whether a task is started."""

from __future__ import annotations

import random

from releasegate.shared.contracts.deploy import DeployTask
from releasegate.shared.readmodels.codes import TASK_TYPE_CODES, UPDATE_DELETE


def backoff_s(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(max, base * 2^attempt)]."""
    return rng.uniform(0, min(max_s, base_s * (2**attempt)))


def wants_start(task: DeployTask) -> bool:
    """Only jobs are started, only when asked, and never a deleted one."""
    return (
        task.startup_mode == 1
        and task.task_type == TASK_TYPE_CODES["job"]
        and task.update_type != UPDATE_DELETE
    )
