"""The one table of error codes, shared by the gateway (HTTP bodies) and the services
(RPC replies). Codes follow the vendor's ``DLF.xxxx`` style; the vendor's own codes
keep their meaning."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    code: str
    http_status: int
    meaning: str


_TABLE: dict[str, ErrorCode] = {}


def _code(code: str, http_status: int, meaning: str) -> ErrorCode:
    entry = ErrorCode(code, http_status, meaning)
    _TABLE[code] = entry
    return entry


# Vendor codes.
JOB_NOT_FOUND = _code("DLF.0100", 400, "The job does not exist.")
PARAMETER_INVALID = _code("DLF.0802", 400, "A parameter is missing or invalid.")
NOT_FOUND = _code("DLF.0810", 400, "The task or release package does not exist.")
FORBIDDEN = _code("DLF.6888", 403, "Invalid account permissions.")
# Gateway and transport.
UNAUTHENTICATED = _code("DLF.1001", 401, "Authentication is missing or invalid.")
BODY_TOO_LARGE = _code("DLF.1002", 413, "The request body is too large.")
ROUTE_NOT_FOUND = _code("DLF.1004", 404, "No such API.")
METHOD_NOT_ALLOWED = _code("DLF.1005", 405, "Method not allowed.")
UNAVAILABLE = _code("DLF.1006", 503, "A backing service is temporarily unavailable; retry.")
INTERNAL = _code("DLF.1007", 500, "Internal error.")
# Upstream events and release tasks.
EVENT_INVALID = _code("DLF.2001", 400, "The upstream event is malformed or of an unknown type.")
TASK_IN_PACKAGE = _code("DLF.2101", 400, "The task is inside a release package.")
# Release packages.
PACKAGE_ITEMS_INVALID = _code("DLF.3001", 400, "The package's pending items are invalid.")
APPROVER_IS_APPLICANT = _code("DLF.3002", 400, "An approver cannot be the applicant.")
APPROVER_UNKNOWN = _code("DLF.3003", 400, "An approver is not a user of this project.")
APPROVER_NOT_ELIGIBLE = _code(
    "DLF.3004",
    400,
    "An approver holds neither admin nor deployer in the workspace, nor a tenant role.",
)
APPROVER_NOT_REVIEWER = _code("DLF.3005", 400, "An approver is not a workspace reviewer.")
APPLICANT_UNKNOWN = _code("DLF.3006", 400, "The applicant is not a user of this workspace.")
PACKAGE_NOT_REVIEWABLE = _code("DLF.3010", 400, "The package is not awaiting review.")
SELF_RELEASE = _code("DLF.3011", 400, "Four-eyes: the applicant cannot release the package.")
PACKAGE_RELEASING = _code("DLF.3012", 400, "The package is being released; it cannot change.")
ALREADY_DECIDED = _code("DLF.3013", 409, "Another decision on the package won the race.")
NOT_AN_APPROVER = _code("DLF.3014", 400, "The caller is not an approver of the package.")

# Gateway authentication and idempotency
SIGNATURE_INVALID = _code("DLF.1010", 401, "The AK/SK request signature is malformed or wrong.")
SIGNATURE_EXPIRED = _code("DLF.1011", 401, "X-Sdk-Date is missing or outside the accepted window.")
SIGNATURE_REPLAYED = _code("DLF.1012", 401, "This request signature was already used.")
IDEMPOTENCY_MISMATCH = _code(
    "DLF.1020", 409, "The Idempotency-Key was used before with a different request."
)
IDEMPOTENCY_IN_PROGRESS = _code(
    "DLF.1021", 409, "A request with this Idempotency-Key is still being processed; retry."
)
USER_ID_TAKEN = _code("DLF.1030", 409, "The user id belongs to another project.")


def error_table() -> list[ErrorCode]:
    return sorted(_TABLE.values(), key=lambda e: e.code)


def lookup(code: str) -> ErrorCode:
    return _TABLE.get(code, INTERNAL)


class ReleasegateError(Exception):
    """A rule said no. Carries a table code and a message for the caller."""

    def __init__(self, error: ErrorCode, message: str | None = None) -> None:
        super().__init__(message or error.meaning)
        self.error = error
        self.message = message or error.meaning

    @property
    def code(self) -> str:
        return self.error.code

    @property
    def http_status(self) -> int:
        return self.error.http_status
