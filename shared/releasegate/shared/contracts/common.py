"""Pieces several contracts share."""

from __future__ import annotations

from pydantic import Field

from releasegate.shared.contracts.envelope import Payload


class Actor(Payload):
    """Who asked, as the gateway authenticated them: roles in the request's workspace."""

    user_id: str = Field(min_length=1, max_length=64)
    user_name: str = Field(min_length=1, max_length=128)
    roles: list[str] = Field(default_factory=list)
    tenant_admin: bool = False

    def holds(self, *roles: str) -> bool:
        return self.tenant_admin or bool(set(roles) & set(self.roles))
