from __future__ import annotations

from releasegate.shared.config import CommonSettings


class DeployerSettings(CommonSettings):
    """``RELEASEGATE_*`` env; see CommonSettings for the shared keys."""

    # Deploying is I/O-bound (a database write or a webhook call per task): several
    # tasks in flight per worker; more throughput comes from more workers.
    prefetch: int = 8
