"""The reply to a command sent with request/reply (gateway -> service)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from releasegate.shared.contracts.envelope import Payload, contract


class Reply(Payload):
    ok: bool
    result: dict[str, Any] | None = None
    error_code: str | None = Field(None, max_length=128)
    error_msg: str | None = None


RPC_REPLY = contract("rpc.reply", 1, Reply, "command", "The answer to a request/reply command.")
