"""Settings shared by every service; each service subclasses it (one class per service)."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-insecure-secret-change-me"


class CommonSettings(BaseSettings):
    """Read from env variables prefixed ``RELEASEGATE_`` (e.g. ``RELEASEGATE_AMQP_URL``)."""

    model_config = SettingsConfigDict(env_prefix="RELEASEGATE_", extra="ignore")

    dev_mode: bool = Field(False, description="Embedded/dev mode: placeholder secrets allowed.")
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    mongodb_url: str = "mongodb://127.0.0.1:27017/"
    mongodb_db: str = "releasegate"
    # Prefix of every exchange and queue name, so several deployments (or test runs)
    # can share one broker without seeing each other's messages.
    bus_namespace: str = "releasegate"
    http_host: str = "127.0.0.1"
    http_port: int = 0
    log_level: str = "INFO"
    # Delays of the bounded retries of a failed handler; one retry per entry.
    retry_delays_ms: list[int] = Field(default_factory=lambda: [200, 1000, 5000])
    max_message_bytes: int = 1_048_576
    shutdown_grace_s: float = 20.0
    outbox_sweep_interval_s: float = 5.0
    # The garbage collector's youngest-generation threshold for a served process
    # (CPython's default is 700): see shared/gc_tuning.py.
    gc_gen0_threshold: int = Field(20_000, ge=1)
    token_secret: str = DEV_SECRET
    token_issuer: str = "releasegate"
    token_audience: str = "releasegate"

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> CommonSettings:
        if not self.dev_mode and self.token_secret == DEV_SECRET:
            raise ValueError(
                "RELEASEGATE_TOKEN_SECRET is the dev placeholder; set a real secret "
                "(or RELEASEGATE_DEV_MODE=true for local development)"
            )
        return self
