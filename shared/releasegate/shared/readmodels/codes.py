"""Numeric codes of the vendor API."""

from __future__ import annotations

TASK_TYPE_CODES = {"job": 1, "script": 2, "resource": 3}
TASK_TYPE_NAMES = {v: k for k, v in TASK_TYPE_CODES.items()}

UPDATE_ADD = 1
UPDATE_MODIFY = 2
UPDATE_DELETE = 3
