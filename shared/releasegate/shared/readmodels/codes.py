"""Numeric codes of the vendor API, and the ones releasegate adds."""

from __future__ import annotations

TASK_TYPE_CODES = {"job": 1, "script": 2, "resource": 3}

UPDATE_ADD = 1
UPDATE_MODIFY = 2
UPDATE_DELETE = 3

# deploy_status of a package, and of each task inside it.
TO_BE_REVIEWED = 1
SUCCESSFUL = 2
FAILED = 3
RELEASING = 5
REJECTED = 6  # a reviewer (deployer/admin) sent it back to the developer
REVOKED = 7  # the applicant withdrew it

# start_job_status of a task.
START_NOT_STARTED = 0  # startup_mode 0, not a job, or not deployed yet
START_RUNNING = 1
START_SUCCEEDED = 2
START_FAILED = 3
