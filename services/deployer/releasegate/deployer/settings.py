from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from releasegate.shared.config import CommonSettings


class DeployerSettings(CommonSettings):
    """``RELEASEGATE_*`` env; see CommonSettings for the shared keys."""

    # Deploying is I/O-bound (a database write or a webhook call per task): many
    # tasks in flight per worker, whose inserts then go together (bench/RESULTS.md:
    # a 100-task release took 0.8-1.1 s at 32 against 1.2-1.7 s at 8); more
    # throughput comes from more workers.
    prefetch: int = 32
    target: Literal["catalog", "webhook"] = "catalog"
    # Simulated latency of the catalog target (benchmarks of I/O-bound targets).
    target_latency_ms: int = Field(0, ge=0, le=60_000)
    webhook_url: str = ""
    webhook_start_url: str = ""
    webhook_secret: str = ""
    webhook_timeout_s: float = 10.0
    # Transient target errors: attempts and the exponential backoff between them.
    target_attempts: int = Field(5, ge=1, le=20)
    target_backoff_s: float = 0.2
    target_backoff_max_s: float = 5.0
    # A deploy or start that takes longer than this gets a progress note (releasing,
    # starting, by which worker) while it runs; quicker ones go straight to their
    # outcome, one database write fewer per task. 0: always note first.
    progress_note_after_ms: int = Field(250, ge=0, le=60_000)

    @model_validator(mode="after")
    def _webhook_needs_its_url_and_secret(self) -> DeployerSettings:
        # Refused at start, not at the first release: an unsigned call, or none at all,
        # would fail every task of it.
        if self.target == "webhook" and not (self.webhook_url and self.webhook_secret):
            raise ValueError(
                "RELEASEGATE_TARGET=webhook needs RELEASEGATE_WEBHOOK_URL and "
                "RELEASEGATE_WEBHOOK_SECRET"
            )
        return self
