from __future__ import annotations

from pydantic import Field

from releasegate.shared.config import CommonSettings


class ReviewSettings(CommonSettings):
    """``RELEASEGATE_*`` env; see CommonSettings for the shared keys."""

    prefetch: int = 32
    # Deployers' reports of one package are written together; the writer waits this
    # long for more before writing (never for the report that finishes the package).
    progress_linger_ms: int = Field(100, ge=0, le=5_000)
    # How long a package creation may wait for its tasks before it is abandoned.
    creating_timeout_s: float = 60.0
    # A releasing package with no task progress for this long is finished as failed.
    stuck_after_s: float = 600.0
    sweep_interval_s: float = 5.0
    # How long the review service waits for the submission service's answer.
    rpc_timeout_s: float = 15.0
