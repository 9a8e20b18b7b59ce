"""The one envelope every message travels in, and the registry of versioned contracts.

A contract is (routing key, schema version) -> a frozen pydantic payload model.
The routing key is explicit and versioned, never derived from a class name, so a
model can be renamed without breaking a single consumer.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from releasegate.shared.clock import utcnow
from releasegate.shared.ids import new_message_id

ROUTING_KEY_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"


class Payload(BaseModel):
    """Base of every message payload: immutable, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Envelope(BaseModel):
    """What goes over the wire (as JSON) for every event, command and reply."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str = Field(default_factory=new_message_id, min_length=1, max_length=128)
    type: str = Field(pattern=ROUTING_KEY_PATTERN, max_length=128, description="Routing key.")
    schema_version: int = Field(1, ge=1, le=1000)
    occurred_at: datetime = Field(default_factory=utcnow)
    correlation_id: str = Field("", max_length=128, description="Defaults to message_id.")
    causation_id: str | None = Field(None, max_length=128)
    project_id: str = Field(min_length=1, max_length=64)
    workspace_id: str = Field(min_length=1, max_length=64)
    trace: dict[str, str] = Field(default_factory=dict, description="W3C traceparent/tracestate.")
    payload: dict[str, Any]

    @model_validator(mode="after")
    def _default_correlation(self) -> Envelope:
        if not self.correlation_id:
            object.__setattr__(self, "correlation_id", self.message_id)
        return self

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


P = TypeVar("P", bound=Payload)
Kind = Literal["upstream", "event", "command", "work"]


@dataclass(frozen=True)
class Contract(Generic[P]):
    type: str
    version: int
    model: builtins.type[P]
    kind: Kind
    summary: str

    def envelope(
        self,
        payload: P,
        *,
        project_id: str,
        workspace_id: str,
        parent: Envelope | None = None,
        message_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope:
        """A new envelope; with ``parent`` it joins the parent's correlation chain."""
        extra: dict[str, Any] = {}
        if message_id:
            extra["message_id"] = message_id
        if occurred_at:
            extra["occurred_at"] = occurred_at
        if parent is not None:
            extra["correlation_id"] = parent.correlation_id
            extra["causation_id"] = parent.message_id
            extra["trace"] = dict(parent.trace)
        return Envelope(
            type=self.type,
            schema_version=self.version,
            project_id=project_id,
            workspace_id=workspace_id,
            payload=payload.model_dump(mode="json"),
            **extra,
        )

    def parse(self, envelope: Envelope) -> P:
        return self.model.model_validate(envelope.payload)


_REGISTRY: dict[tuple[str, int], Contract[Any]] = {}


def contract(
    type_: str, version: int, model: builtins.type[P], kind: Kind, summary: str
) -> Contract[P]:
    key = (type_, version)
    if key in _REGISTRY:
        raise ValueError(f"contract {type_} v{version} registered twice")
    registered: Contract[P] = Contract(type_, version, model, kind, summary)
    _REGISTRY[key] = registered
    return registered


def lookup(type_: str, version: int) -> Contract[Any] | None:
    return _REGISTRY.get((type_, version))


def all_contracts() -> list[Contract[Any]]:
    return sorted(_REGISTRY.values(), key=lambda c: (c.kind, c.type, c.version))
