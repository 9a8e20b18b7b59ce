from __future__ import annotations

from releasegate.shared.config import CommonSettings


class GatewaySettings(CommonSettings):
    """``RELEASEGATE_*`` env; see CommonSettings for the shared keys."""

    http_port: int = 8000
    max_body_bytes: int = 1_048_576
    # How long an API call waits for the owning service's answer before a 503.
    rpc_timeout_s: float = 15.0
