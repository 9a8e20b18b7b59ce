"""Housekeeping messages a service sends to its own queue."""

from __future__ import annotations

from pydantic import Field

from releasegate.shared.contracts.envelope import Payload, contract


class Tick(Payload):
    """Time to sweep: handled in the service's own message stream, so housekeeping
    writes obey the same single-writer rule as every handler."""

    service: str = Field(min_length=1, max_length=32)


SERVICE_TICK = contract(
    "service.tick",
    1,
    Tick,
    "command",
    "Periodic housekeeping (outbox sweep, stuck work) of a service.",
)
